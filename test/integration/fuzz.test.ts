import { env as workerEnv } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { signBuildHook } from '../../shared/webhooks/build-hook';
import { SIGNATURE_HEADER } from '../../shared/webhooks/signing';
import type { CoreBindings } from '../../workers/common/env';
import { ADMIN_TOKEN, api } from './helpers';
import worker from './worker';

// API fuzzing: every operation of the OpenAPI document gets malformed input of every kind
// (random JSON, wrong types, huge numbers, unicode, missing fields, wrong content types, odd
// path parameters, bad query parameters, bodies over the 2 MiB limit). No answer may be a 5xx,
// and every error must be the one envelope { error: { code, message } }. Seeded and bounded.

const env = workerEnv as unknown as CoreBindings & { HOOK_SECRET: string };

/**
 * Calls the worker's fetch handler directly. (Going through `exports.default.fetch`, as api()
 * does, gets slower with every request in this pool: hundreds of requests would take minutes.)
 */
async function send(path: string, init: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const request = new Request(`http://agent-r.test${path}`, init) as Parameters<typeof worker.fetch>[0];
  const response = await worker.fetch(request, env as never, ctx);
  const bytes = await response.arrayBuffer();
  await waitOnExecutionContext(ctx);
  return new Response(response.status === 204 ? null : bytes, {
    status: response.status,
    headers: response.headers,
  });
}

const SEED = 0x5eed_a11;
const REQUESTS_PER_OPERATION = 30;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = mulberry32(SEED);
const int = (n: number) => Math.floor(random() * n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
const chance = (p: number) => random() < p;

const ODD_STRINGS = [
  '',
  ' ',
  'a',
  '0',
  '-1',
  '1e309',
  'NaN',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  '💥🔥',
  'ｆｕｌｌｗｉｄｔｈ',
  'e\u0301',
  '\u202etxt.exe',
  '\u0000',
  '\uffff',
  '\ud800',
  '..',
  '../../etc/passwd',
  '%',
  '%zz',
  '%00',
  '%2e%2e%2f',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '"; DROP TABLE runs; --',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log-injection probe, meant literally
  '${jndi:x}',
  'a/b',
  'a?b=c',
  'a#b',
  'x'.repeat(5000),
  'é'.repeat(400),
  '9'.repeat(400),
  '-0',
  '0x10',
  '1.5',
  ' 7 ',
];

const ODD_NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.5,
  -1e-300,
  1e308,
  -1e308,
  2 ** 53 + 1,
  2 ** 31,
  -(2 ** 31) - 1,
  1e21,
  123456789012,
];

function randomJson(depth = 0): unknown {
  const roll = int(depth > 3 ? 4 : 7);
  switch (roll) {
    case 0:
      return null;
    case 1:
      return chance(0.5);
    case 2:
      return pick(ODD_NUMBERS);
    case 3:
      return pick(ODD_STRINGS);
    case 4:
      return Array.from({ length: int(5) }, () => randomJson(depth + 1));
    default: {
      const out: Record<string, unknown> = {};
      for (let i = int(5); i > 0; i--) out[pick(ODD_STRINGS).slice(0, 40) || 'k'] = randomJson(depth + 1);
      return out;
    }
  }
}

interface SchemaObject {
  type?: string;
  properties?: Record<string, SchemaObject>;
  required?: string[];
  items?: SchemaObject;
  enum?: unknown[];
}

/** A plausible-but-wrong value for a schema: a valid-looking base with wrong types sprinkled in. */
function valueFor(schema: SchemaObject | undefined, depth = 0): unknown {
  if (!schema || depth > 4 || chance(0.25)) return randomJson(depth);
  if (schema.enum && chance(0.6)) return chance(0.8) ? pick(schema.enum) : `${String(pick(schema.enum))}x`;
  switch (schema.type) {
    case 'string':
      return pick(ODD_STRINGS);
    case 'number':
    case 'integer':
      return chance(0.7) ? pick(ODD_NUMBERS) : pick(['1', 'NaN', null, true]);
    case 'boolean':
      return chance(0.7) ? chance(0.5) : pick(['true', 0, 1]);
    case 'array':
      return Array.from({ length: chance(0.1) ? 300 : int(4) }, () => valueFor(schema.items, depth + 1));
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(schema.properties ?? {})) {
        if (chance(0.8)) out[key] = valueFor(child, depth + 1);
      }
      if (chance(0.2)) out[pick(ODD_STRINGS).slice(0, 30) || 'extra'] = randomJson(depth + 1);
      return out;
    }
    default:
      return randomJson(depth);
  }
}

const BAD_JSON_TEXTS = [
  '{',
  '[1,',
  'nul',
  '{"a":1}}',
  "{'single':'quotes'}",
  '\u0000',
  '',
  ' ',
  '"just a string"',
  '12',
  '[]',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"x":1}}}',
  `${'['.repeat(3000)}${']'.repeat(3000)}`,
  `{"a":${'9'.repeat(2000)}}`,
  '\ufeff{}',
];

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=zzz',
  'application/x-ndjson',
  'application/xml',
  '*/*',
  'application/json; charset=utf-16',
  'garbage',
];

interface Operation {
  method: string;
  path: string;
  params: { name: string; in: string; schema?: SchemaObject }[];
  body?: SchemaObject;
  hasBody: boolean;
}

const fixtures: Record<string, string[]> = {};

/** encodeURIComponent that survives lone surrogates (sent as the raw, invalid UTF-8 bytes). */
function enc(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return text.replace(/[\ud800-\udfff]/g, '%ED%A0%80').replace(/[^%\w.-]/g, (ch) => {
      try {
        return encodeURIComponent(ch);
      } catch {
        return '%ED%A0%80';
      }
    });
  }
}

function paramValue(name: string): string {
  const known = fixtures[name] ?? [];
  if (known.length && chance(0.35)) return enc(pick(known));
  const odd = pick(ODD_STRINGS);
  // Mostly encoded like a client would, sometimes raw (invalid percent-encoding included).
  if (chance(0.75)) return enc(odd);
  return enc(odd)
    .replace(/%25/g, '%')
    .replace(/%2F|%3F|%23/gi, '_');
}

function queryString(op: Operation): string {
  const query = op.params.filter((p) => p.in === 'query');
  const parts: string[] = [];
  for (const p of query) {
    if (chance(0.3)) continue;
    const value = chance(0.5) ? String(valueFor(p.schema)) : pick(ODD_STRINGS);
    parts.push(`${enc(p.name)}=${enc(value)}`);
    if (chance(0.1)) parts.push(`${enc(p.name)}=${enc(pick(ODD_STRINGS))}`);
  }
  if (chance(0.2)) parts.push(`${enc(pick(ODD_STRINGS))}=${pick(['1', '%zz', ''])}`);
  if (chance(0.1)) parts.push('%zz=%zz');
  return parts.length ? `?${parts.join('&')}` : '';
}

function bodyFor(op: Operation): { body?: string; contentType?: string } {
  const roll = random();
  if (roll < 0.12) return { body: pick(BAD_JSON_TEXTS), contentType: 'application/json' };
  if (roll < 0.22) return { body: JSON.stringify(valueFor(op.body)), contentType: pick(CONTENT_TYPES) };
  if (roll < 0.27) return {};
  if (roll < 0.32) return { body: 'a=1&b=2', contentType: 'application/x-www-form-urlencoded' };
  if (roll < 0.45) return { body: JSON.stringify(randomJson()), contentType: 'application/json' };
  return { body: JSON.stringify(valueFor(op.body)), contentType: 'application/json' };
}

function authHeader(): string | null {
  const roll = random();
  if (roll < 0.85) return `Bearer ${ADMIN_TOKEN}`;
  if (roll < 0.9) return null;
  return pick([
    'Bearer',
    'Bearer ',
    `Basic ${btoa('a:b')}`,
    `Bearer ${pick(ODD_STRINGS).replace(/[^\x20-\x7e]/g, '?')}`,
    `bearer ${ADMIN_TOKEN} extra`,
  ]);
}

async function operations(): Promise<Operation[]> {
  const response = await api('/openapi.json', { token: null });
  expect(response.status).toBe(200);
  const doc = (await response.json()) as {
    paths: Record<string, Record<string, Record<string, unknown>>>;
  };
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
      const op = item[method] as
        | {
            parameters?: Operation['params'];
            requestBody?: { content?: Record<string, { schema?: SchemaObject }> };
          }
        | undefined;
      if (!op) continue;
      const content = op.requestBody?.content ?? {};
      ops.push({
        method: method.toUpperCase(),
        path,
        params: op.parameters ?? [],
        body: content['application/json']?.schema,
        hasBody: Object.keys(content).length > 0,
      });
    }
  }
  return ops;
}

interface Failure {
  request: string;
  status: number;
  body: string;
}

async function check(failures: Failure[], description: string, response: Response): Promise<void> {
  const text = new TextDecoder().decode(await response.arrayBuffer());
  if (response.status >= 500) {
    failures.push({ request: description, status: response.status, body: text.slice(0, 300) });
    return;
  }
  if (response.status >= 400) {
    let ok = false;
    try {
      const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
      ok = typeof parsed.error?.code === 'string' && typeof parsed.error?.message === 'string';
    } catch {
      ok = false;
    }
    if (!ok || !response.headers.get('content-type')?.includes('application/json')) {
      failures.push({
        request: description,
        status: response.status,
        body: `not the envelope: ${text.slice(0, 300)}`,
      });
    }
  }
}

describe('API fuzzing over the OpenAPI document', () => {
  beforeAll(async () => {
    // Real ids, so some requests reach past the "not found" checks.
    const now = Date.now();
    const spec = {
      env: 'crafting',
      world: 'default',
      tasks: [0, 1],
      policy: 'sim',
      iterations: 1,
      width: 2,
      depth: 4,
      alpha: 0.5,
      beta: 0.2,
      c: 0.25,
      transition: 'model',
      parallelism: 1,
      seed: 0,
      temperature: 1,
      maxTokens: 500,
      contextTokens: 8192,
      preset: 'agent-r',
      jobTimeoutMs: 120000,
    };
    await env.DB.prepare(
      "INSERT INTO runs (id, status, spec, task_count, created_at, updated_at, completed_at) VALUES ('run_fuzz', 'completed', ?, 2, ?, ?, ?)",
    )
      .bind(JSON.stringify(spec), now, now, now)
      .run();
    const dataset = await api('/v1/datasets', {
      method: 'POST',
      json: { name: 'fuzz', runIds: ['run_fuzz'] },
    });
    expect(dataset.status).toBe(201);
    const webhook = await api('/v1/webhooks', {
      method: 'POST',
      json: { url: `${inject('webhookReceiverUrl')}/hook/fuzz`, events: ['eval.completed'] },
    });
    const token = await api('/v1/tokens', { method: 'POST', json: { name: 'fuzz' } });
    fixtures.id = [
      'run_fuzz',
      ((await dataset.json()) as { id: string }).id,
      ((await webhook.json()) as { id: string }).id,
      ((await token.json()) as { id: string }).id,
    ];
    fixtures.task = ['0', '1', '2'];
    fixtures.name = ['default', 'sim', 'fuzz'];
    fixtures.file = ['train.openai.jsonl', 'manifest.json'];
  });

  it('never answers 5xx, and every error is the JSON envelope', async () => {
    const ops = await operations();
    // Every route family the product serves is in the document.
    const paths = ops.map((o) => `${o.method} ${o.path}`);
    for (const expected of [
      'POST /v1/runs',
      'POST /v1/hooks/build',
      'POST /v1/webhooks',
      'GET /v1/webhooks/{id}/deliveries',
      'POST /v1/tokens',
      'DELETE /v1/tokens/{id}',
      'POST /v1/datasets',
      'PUT /v1/datasets/general-chat/{name}',
      'GET /v1/datasets/{id}/files/{file}',
    ]) {
      expect(paths).toContain(expected);
    }
    const failures: Failure[] = [];
    let sent = 0;
    for (const op of ops) {
      for (let i = 0; i < REQUESTS_PER_OPERATION; i++) {
        const path = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => paramValue(name));
        const url = `${path}${queryString(op)}`;
        const headers: Record<string, string> = {};
        const auth = authHeader();
        if (auth) headers.authorization = auth;
        let body: string | undefined;
        if (op.method !== 'GET') {
          const made = op.hasBody
            ? bodyFor(op)
            : chance(0.3)
              ? { body: JSON.stringify(randomJson()), contentType: 'application/json' }
              : {};
          body = made.body;
          if (made.contentType) headers['content-type'] = made.contentType;
        }
        if (op.path === '/v1/hooks/build') {
          const key = chance(0.8) ? pick(ODD_STRINGS).replace(/[^\x20-\x7e]/g, '?') || 'k' : undefined;
          if (chance(0.6))
            headers[SIGNATURE_HEADER] = await signBuildHook(env.HOOK_SECRET, key ?? '', body ?? '');
          else if (chance(0.5)) headers[SIGNATURE_HEADER] = pick(ODD_STRINGS).replace(/[^\x20-\x7e]/g, '?');
          if (key !== undefined) headers['idempotency-key'] = key;
        }
        const description = `${op.method} ${url.slice(0, 200)} ${JSON.stringify(headers).slice(0, 200)} body=${(body ?? '').slice(0, 200)}`;
        let response: Response;
        try {
          response = await send(url, { method: op.method, body, headers });
        } catch (error) {
          // fetch refused to send it (e.g. an invalid URL): nothing reached the server.
          expect(String(error)).not.toMatch(/internal/i);
          continue;
        }
        sent++;
        await check(failures, description, response);
      }
    }
    expect(sent).toBeGreaterThan(ops.length * REQUESTS_PER_OPERATION * 0.9);
    expect(failures).toEqual([]);
  });

  it('refuses bodies over 2 MiB on every operation that takes one with 413 and the envelope', async () => {
    const ops = (await operations()).filter((o) => o.hasBody);
    expect(ops.length).toBeGreaterThan(5);
    const big = `{"pad":"${'x'.repeat(2 * 1024 * 1024 + 10)}"}`;
    const failures: Failure[] = [];
    for (const op of ops) {
      const path = op.path.replace(/\{([^}]+)\}/g, (_, name: string) =>
        encodeURIComponent(fixtures[name]?.[0] ?? 'x'),
      );
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        authorization: `Bearer ${ADMIN_TOKEN}`,
      };
      if (op.path === '/v1/hooks/build') {
        headers[SIGNATURE_HEADER] = await signBuildHook(env.HOOK_SECRET, 'big', big);
        headers['idempotency-key'] = 'big';
      }
      const response = await send(path, { method: op.method, body: big, headers });
      if (response.status !== 413) {
        failures.push({
          request: `${op.method} ${path}`,
          status: response.status,
          body: (await response.text()).slice(0, 200),
        });
        continue;
      }
      await check(failures, `${op.method} ${path} (oversized)`, response);
    }
    expect(failures).toEqual([]);
  });

  it('answers unknown routes and methods with the envelope', async () => {
    const failures: Failure[] = [];
    for (const [method, path] of [
      ['GET', '/v1'],
      ['GET', '/v1/'],
      ['PATCH', '/v1/runs'],
      ['PUT', '/v1/tokens'],
      ['GET', '/v1/hooks/build'],
      ['POST', '/v1/hooks/other'],
      ['DELETE', '/v1/datasets'],
      ['GET', '/v1/%zz'],
      ['GET', `/v1/${'a/'.repeat(200)}`],
    ] as const) {
      const response = await api(path, { method });
      expect(response.status).toBeGreaterThanOrEqual(400);
      await check(failures, `${method} ${path}`, response);
    }
    expect(failures).toEqual([]);
  });
});
