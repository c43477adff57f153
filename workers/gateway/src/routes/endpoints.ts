import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import {
  endpointListSchema,
  publicEndpointSchema,
  savedEndpointSchema,
} from '../../../../shared/contracts/endpoints';
import { endpointSchema } from '../../../../shared/inference/endpoint';
import { deleteEndpoint, listPublicEndpoints, saveEndpoint } from '../../../common/endpoints';
import type { GatewayContext } from '../context';
import { notFound } from '../../../../shared/contracts/api-error';
import { errorResponses, jsonBody, jsonResponse } from '../openapi';

const endpointWriteSchema = endpointSchema.omit({ name: true });
const nameParam = z.object({ name: endpointSchema.shape.name });

export const endpointsApp = new OpenAPIHono<GatewayContext>();

endpointsApp.openapi(
  createRoute({
    method: 'put',
    path: '/{name}',
    summary: 'Create or replace an inference endpoint (the API key is write-only)',
    description:
      'The key is sealed for this name, base-URL origin and model. A write without apiKey keeps the ' +
      'stored key while the origin stays the same; moving the base URL to another origin removes it ' +
      '(hasApiKey false, with a notice): send apiKey again to use one there. The base URL must pass the ' +
      'outbound policy (http/https; private addresses only outside production or when allow-listed).',
    request: { params: nameParam, ...jsonBody(endpointWriteSchema) },
    responses: {
      200: jsonResponse(savedEndpointSchema, 'The stored endpoint, without its key'),
      ...errorResponses,
    },
  }),
  async (c) => {
    const endpoint = { ...c.req.valid('json'), name: c.req.valid('param').name };
    return c.json(await saveEndpoint(c.env, endpoint), 200);
  },
);

endpointsApp.openapi(
  createRoute({
    method: 'get',
    path: '/',
    summary: 'List inference endpoints',
    responses: {
      200: jsonResponse(endpointListSchema, 'Endpoints'),
      ...errorResponses,
    },
  }),
  async (c) => c.json({ endpoints: await listPublicEndpoints(c.env) }, 200),
);

endpointsApp.openapi(
  createRoute({
    method: 'get',
    path: '/{name}',
    summary: 'One inference endpoint, without its key',
    request: { params: nameParam },
    responses: { 200: jsonResponse(publicEndpointSchema, 'The endpoint'), ...errorResponses },
  }),
  async (c) => {
    const { name } = c.req.valid('param');
    const found = (await listPublicEndpoints(c.env)).find((e) => e.name === name);
    if (!found) throw notFound(`endpoint ${name}`);
    return c.json(found, 200);
  },
);

endpointsApp.openapi(
  createRoute({
    method: 'delete',
    path: '/{name}',
    summary: 'Delete an inference endpoint',
    request: { params: nameParam },
    responses: { 200: jsonResponse(z.object({ deleted: z.literal(true) }), 'Deleted'), ...errorResponses },
  }),
  async (c) => {
    const { name } = c.req.valid('param');
    if (!(await deleteEndpoint(c.env, name))) throw notFound(`endpoint ${name}`);
    return c.json({ deleted: true as const }, 200);
  },
);
