import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { createInternedJsonlReader } from '../../shared/formats/interned-jsonl';
import { type NativeRecord, nativeRecordSchema } from '../../shared/revision';
import worker from './worker';

export const ADMIN_TOKEN = 'test-admin-token';

/**
 * Calls the API of the integration worker (the gateway's app) as a client would. It calls the
 * handler directly: going through `exports.default.fetch` was measured to slow down with every call.
 */
export async function api(
  path: string,
  init: RequestInit & {
    json?: unknown;
    token?: string | null;
    vars?: Record<string, unknown>;
  } = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.token !== null) headers.set('authorization', `Bearer ${init.token ?? ADMIN_TOKEN}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(init.json);
  }
  const ctx = createExecutionContext();
  const request = new Request(`http://agent-r.test${path}`, { ...init, headers, body });
  // `vars` overrides some of the worker's vars for this call (e.g. ENVIRONMENT=production).
  const callEnv = init.vars ? { ...(env as object), ...init.vars } : env;
  const response = await worker.fetch(request as Parameters<typeof worker.fetch>[0], callEnv as never, ctx);
  await waitOnExecutionContext(ctx);
  return response as unknown as Response;
}

/** Polls until `check` returns a value, bounded in attempts (never sleeps forever). */
export async function eventually<T>(
  check: () => Promise<T | undefined | null | false>,
  attempts = 200,
  delayMs = 50,
): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const value = await check();
    if (value) return value;
    await new Promise((r) => setTimeout(r, delayMs));
  }
  throw new Error(`condition not met after ${attempts} attempts`);
}

/** Decodes the lines of one records file in order (interned JSONL, as the splicer writes it). */
export function recordLineReader(): (line: string) => NativeRecord {
  const reader = createInternedJsonlReader();
  return (line) => nativeRecordSchema.parse(reader.value(JSON.parse(line)));
}
