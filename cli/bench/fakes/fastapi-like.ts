import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/*
 * A tiny FastAPI/uvicorn look-alike for fake AgentGym servers: same status codes, bodies and
 * content types as FastAPI's defaults (404 {"detail":"Not Found"}, 405, pydantic-v2 style 422,
 * 500 "Internal Server Error" as text/plain), compact JSON like FastAPI's JSONResponse, plus a
 * request log and fault injection for tests.
 */

export type FieldType = 'int' | 'str';
export interface FieldSpec {
  type: FieldType;
  /** Absent fields get this value (pydantic `Optional[...] = default`). Without it the field is required. */
  default?: number | string | null;
}

export interface Route {
  method: 'GET' | 'POST';
  path: string;
  /** Pydantic body model fields (the body is then required JSON). */
  body?: Record<string, FieldSpec>;
  /** Query parameters (FastAPI scalar params). */
  query?: Record<string, FieldSpec>;
  handle(input: Record<string, unknown>): Reply | Promise<Reply>;
}

export type Reply =
  | { json: unknown; status?: number }
  /** Pre-serialised JSON (e.g. with Python float formatting). */
  | { rawJson: string; status?: number }
  /** An unhandled exception inside the handler. */
  | { crash: true };

export interface RecordedCall {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body, or the raw text when it is not JSON, or undefined when empty. */
  body: unknown;
  /** HTTP status sent, or 'hung' while (or because) no answer was given. */
  status: number | 'hung';
}

export interface FakeFaults {
  /** Probability that a request answers 5xx before reaching the handler (seeded). */
  rate5xx?: number;
  /** The next N requests answer 5xx before reaching the handler. */
  fail5xxNext?: number;
  /** Status used by `rate5xx` and `fail5xxNext` (default 500). */
  status5xx?: number;
  /** Only these paths get the 5xx faults (default: all). */
  faultPaths?: string[];
  /** Requests naming one of these env ids (`id` / `env_idx`) are never answered. */
  hangIds?: number[];
  /** Requests to these paths are never answered. */
  hangPaths?: string[];
  /** The next request to `path` answers HTTP 200 {"error": message} without running the handler. */
  errorOnce?: { path: string; message: string };
  /** Seed of the fault RNG. */
  seed?: number;
}

export interface FakeServer {
  url: string;
  calls: RecordedCall[];
  setFaults(faults: FakeFaults): void;
  close(): Promise<void>;
}

/** Serialises like Python's json.dumps(separators=(",", ":")) where `PyFloat` marks floats. */
export class PyFloat {
  constructor(readonly value: number) {}
}
export function pythonJson(value: unknown): string {
  if (value instanceof PyFloat) {
    return Number.isInteger(value.value) ? `${value.value}.0` : String(value.value);
  }
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(
      ([key, inner]) => `${JSON.stringify(key)}:${pythonJson(inner)}`,
    );
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export async function startFastApiLike(routes: Route[]): Promise<FakeServer> {
  const calls: RecordedCall[] = [];
  let faults: FakeFaults = {};
  let random = mulberry32(0);

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      void serve(request, response, text).catch(() => send(response, 500, 'Internal Server Error', true));
    });
  });

  async function serve(request: IncomingMessage, response: ServerResponse, text: string): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams);
    const body = parseBody(text);
    const call: RecordedCall = {
      method: request.method ?? 'GET',
      path: url.pathname,
      query,
      body: body === NOT_JSON ? text : body,
      status: 'hung',
    };
    calls.push(call);
    const reply = (status: number, payload: string, plain = false) => {
      call.status = status;
      send(response, status, payload, plain);
    };

    const named = envIdOf(body, query);
    if (
      faults.hangPaths?.includes(url.pathname) ||
      (named !== undefined && faults.hangIds?.includes(named))
    ) {
      return; // never answered; close() drops the connection
    }
    const faultable = !faults.faultPaths || faults.faultPaths.includes(url.pathname);
    if (faultable && ((faults.fail5xxNext ?? 0) > 0 || random() < (faults.rate5xx ?? 0))) {
      if ((faults.fail5xxNext ?? 0) > 0) faults.fail5xxNext = (faults.fail5xxNext ?? 0) - 1;
      const status = faults.status5xx ?? 500;
      return reply(status, status === 500 ? 'Internal Server Error' : 'Service Unavailable', true);
    }
    if (faults.errorOnce?.path === url.pathname) {
      const { message } = faults.errorOnce;
      faults.errorOnce = undefined;
      return reply(200, JSON.stringify({ error: message }));
    }

    const samePath = routes.filter((candidate) => candidate.path === url.pathname);
    const route = samePath.find((candidate) => candidate.method === request.method);
    if (samePath.length === 0) return reply(404, '{"detail":"Not Found"}');
    if (!route) return reply(405, '{"detail":"Method Not Allowed"}');

    const input: Record<string, unknown> = {};
    const problems: unknown[] = [];
    if (route.query) validate(route.query, query, 'query', input, problems);
    if (route.body) {
      if (text.length === 0) {
        problems.push({ type: 'missing', loc: ['body'], msg: 'Field required', input: null });
      } else if (body === NOT_JSON) {
        problems.push({ type: 'json_invalid', loc: ['body', 0], msg: 'JSON decode error', input: {} });
      } else if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        problems.push({
          type: 'model_attributes_type',
          loc: ['body'],
          msg: 'Input should be a valid dictionary or object to extract fields from',
          input: body,
        });
      } else {
        validate(route.body, body as Record<string, unknown>, 'body', input, problems);
      }
    }
    if (problems.length > 0) return reply(422, JSON.stringify({ detail: problems }));

    const answer = await route.handle(input);
    if ('crash' in answer) return reply(500, 'Internal Server Error', true);
    const payload = 'rawJson' in answer ? answer.rawJson : pythonJson(answer.json);
    return reply(answer.status ?? 200, payload);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    setFaults(next) {
      faults = { ...next };
      random = mulberry32(next.seed ?? 0);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // also the hung ones
      }),
  };
}

const NOT_JSON = Symbol('not JSON');

function parseBody(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
}

/** The env id a request is about (TextCraft/SciWorld `id`, WebShop `env_idx`), for hang faults. */
function envIdOf(body: unknown, query: Record<string, string>): number | undefined {
  const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const raw = fields.id ?? fields.env_idx ?? query.id ?? query.env_idx;
  const value = Number(raw);
  return raw === undefined || !Number.isInteger(value) ? undefined : value;
}

/** Pydantic-v2-like coercion and error entries (lax mode: "5" is a valid int). */
function validate(
  fields: Record<string, FieldSpec>,
  source: Record<string, unknown>,
  where: 'body' | 'query',
  into: Record<string, unknown>,
  problems: unknown[],
): void {
  for (const [name, spec] of Object.entries(fields)) {
    const value = source[name];
    if (value === undefined) {
      if ('default' in spec) into[name] = spec.default;
      else
        problems.push({
          type: 'missing',
          loc: [where, name],
          msg: 'Field required',
          input: where === 'body' ? source : null,
        });
      continue;
    }
    if (spec.type === 'str') {
      if (typeof value === 'string') into[name] = value;
      else
        problems.push({
          type: 'string_type',
          loc: [where, name],
          msg: 'Input should be a valid string',
          input: value,
        });
      continue;
    }
    const number = typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
    if (typeof number === 'number' && Number.isInteger(number)) into[name] = number;
    else if (value === null && spec.default === null) into[name] = null;
    else {
      problems.push({
        type: 'int_parsing',
        loc: [where, name],
        msg: 'Input should be a valid integer, unable to parse string as an integer',
        input: value,
      });
    }
  }
}

function send(response: ServerResponse, status: number, payload: string, plain = false): void {
  if (response.headersSent || response.destroyed) return;
  response.writeHead(status, {
    server: 'uvicorn',
    'content-type': plain ? 'text/plain; charset=utf-8' : 'application/json',
    'content-length': Buffer.byteLength(payload),
  });
  response.end(payload);
}

/** Small seeded PRNG for reproducible fault schedules. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
