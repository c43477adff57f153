import { createHash } from 'node:crypto';
import type { ApiClient } from './api-client';
import type { EndpointRef } from './config-endpoint';

/** The name an endpoint given by URL is registered under: stable for one URL and model. */
export function urlEndpointName(baseUrl: string, model: string): string {
  return `url-${createHash('sha256').update(`${baseUrl} ${model}`).digest('hex').slice(0, 10)}`;
}

/** Registers an endpoint given by URL (PUT /v1/endpoints/NAME, settings included); names pass through. */
export async function registerEndpoint(api: ApiClient, ref: EndpointRef): Promise<string> {
  if ('name' in ref) return ref.name;
  const { name: given, ...endpoint } = ref.endpoint;
  const name = given ?? urlEndpointName(endpoint.baseUrl, endpoint.model);
  await api.json('PUT', `/v1/endpoints/${encodeURIComponent(name)}`, endpoint);
  return name;
}
