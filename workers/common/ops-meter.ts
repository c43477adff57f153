/**
 * Platform-operation counters for `agent-r bench` (platform_ops): queue messages, Durable Object
 * RPCs, D1 statements and rows, R2 puts and bytes, outbound fetches, Durable Object SQL. OFF unless
 * the worker's env has OPS_METER = "1" (the bench's metered stack sets it in .dev.vars): then the
 * bindings are wrapped in counting proxies. Off, `meterEnv` / `meterState` return their argument
 * untouched: one property read per invocation, nothing else on the normal path.
 *
 * Counts go to the log as `agent-r-ops {json}` lines, each the delta since the previous line of
 * this isolate, at most every 250 ms and at the end of every consumer invocation (flushOps).
 */

import { OPS_LINE_PREFIX } from '../../shared/contracts/ops-meter';

type Counts = Record<string, number>;

let pending: Counts = {};
let scheduled = false;
let fetchWrapped = false;

function add(key: string, n = 1): void {
  pending[key] = (pending[key] ?? 0) + n;
  if (!scheduled) {
    scheduled = true;
    setTimeout(() => flushOps(), 250);
  }
}

/** Logs the counts since the last flush (nothing when there are none). */
export function flushOps(): void {
  scheduled = false;
  if (Object.keys(pending).length === 0) return;
  const out = pending;
  pending = {};
  console.log(`${OPS_LINE_PREFIX}${JSON.stringify(out)}`);
}

function isOn(env: unknown): boolean {
  return (env as { OPS_METER?: string } | null)?.OPS_METER === '1';
}

/**
 * A proxy whose method calls go through `onCall` (which calls `invoke`, possibly with changed
 * arguments); methods run on the real object (native bindings refuse a Proxy as `this`).
 */
function wrap<T extends object>(
  target: T,
  onCall: (name: string, args: unknown[], invoke: (args: unknown[]) => unknown) => unknown,
): T {
  const proxy = new Proxy(target, {
    get(obj, prop) {
      const value = Reflect.get(obj, prop, obj) as unknown;
      // Not 'then': an RPC binding answers every name, and a thenable proxy would be awaited.
      if (typeof value !== 'function' || prop === 'then') return value;
      const method = value as (...a: unknown[]) => unknown;
      return (...args: unknown[]) => onCall(String(prop), args, (a) => method.apply(obj, a));
    },
  });
  unwrapped.set(proxy, target);
  return proxy;
}

/** Proxy -> the real object, for native calls that take bindings' objects as arguments (D1 batch). */
const unwrapped = new WeakMap<object, object>();

function byteSize(value: unknown): number {
  if (typeof value === 'string') return new TextEncoder().encode(value).byteLength;
  if (value instanceof ArrayBuffer) return value.byteLength;
  if (ArrayBuffer.isView(value)) return value.byteLength;
  if (value instanceof Blob) return value.size;
  return 0;
}

function meterD1Statement(statement: object): object {
  return wrap(statement, (name, args, invoke) => {
    const result = invoke(args);
    if (name === 'bind') return meterD1Statement(result as object);
    if (name === 'run' || name === 'all' || name === 'first' || name === 'raw') {
      add('d1_statements');
      // first() and raw() resolve to rows without meta: counted as statements only.
      return Promise.resolve(result).then((r) => {
        const meta = (r as { meta?: { rows_written?: number; rows_read?: number } } | null)?.meta;
        if (meta) {
          add('d1_rows_written', meta.rows_written ?? 0);
          add('d1_rows_read', meta.rows_read ?? 0);
        }
        return r;
      });
    }
    return result;
  });
}

function meterBinding(name: string, binding: object): object {
  const ctor = (binding as { constructor?: { name?: string } }).constructor?.name ?? '';
  if ('prepare' in binding && 'batch' in binding) {
    return wrap(binding, (method, args, invoke) => {
      if (method === 'prepare') return meterD1Statement(invoke(args) as object);
      if (method === 'batch') {
        const statements = (args[0] as object[]).map((st) => unwrapped.get(st) ?? st);
        add('d1_statements', statements.length);
        add('d1_batches');
        return Promise.resolve(invoke([statements, ...args.slice(1)])).then((rs) => {
          for (const r of rs as { meta?: { rows_written?: number; rows_read?: number } }[]) {
            add('d1_rows_written', r.meta?.rows_written ?? 0);
            add('d1_rows_read', r.meta?.rows_read ?? 0);
          }
          return rs;
        });
      }
      if (method === 'exec') add('d1_statements');
      return invoke(args);
    });
  }
  if ('put' in binding && 'head' in binding && 'list' in binding) {
    return wrap(binding, (method, args, invoke) => {
      if (method === 'put') {
        add('r2_puts');
        add('r2_put_bytes', byteSize(args[1]));
      } else if (method === 'get' || method === 'head') add('r2_reads');
      else if (method === 'list' || method === 'createMultipartUpload') add('r2_class_a_other');
      else if (method === 'delete') add('r2_deletes');
      return invoke(args);
    });
  }
  if ('send' in binding && 'sendBatch' in binding) {
    return wrap(binding, (method, args, invoke) => {
      const messages = method === 'send' ? 1 : method === 'sendBatch' ? (args[0] as unknown[]).length : 0;
      if (method === 'send' || method === 'sendBatch') {
        add('queue_messages', messages);
        add(`queue_messages.${name}`, messages);
        add('queue_send_calls');
      }
      return invoke(args);
    });
  }
  if ('idFromName' in binding && 'get' in binding) {
    return wrap(binding, (method, args, invoke) => {
      const result = invoke(args);
      if (method !== 'get' && method !== 'getByName') return result;
      return new Proxy(result as object, {
        get(stub, prop) {
          const value = Reflect.get(stub, prop, stub) as unknown;
          if (typeof value !== 'function' || prop === 'then') return value;
          return (...args: unknown[]) => {
            add('do_rpcs');
            add(`do_rpcs.${name}`);
            // Called as a method of the stub itself: an RPC callable must not be re-bound.
            return (stub as Record<string | symbol, (...a: unknown[]) => unknown>)[prop]!(...args);
          };
        },
      });
    });
  }
  if ('fetch' in binding && ctor !== 'Object') {
    return wrap(binding, (method, args, invoke) => {
      if (method === 'fetch') add('service_calls');
      return invoke(args);
    });
  }
  return binding;
}

/** The env with counting bindings when OPS_METER is "1"; otherwise `env` itself. */
export function meterEnv<E extends object>(env: E): E {
  if (!isOn(env)) return env;
  if (!fetchWrapped) {
    fetchWrapped = true;
    const real = globalThis.fetch;
    globalThis.fetch = ((...args: Parameters<typeof fetch>) => {
      add('outbound_fetches');
      return real(...args);
    }) as typeof fetch;
  }
  const cache = new Map<string, unknown>();
  return new Proxy(env, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof prop !== 'string' || value === null || typeof value !== 'object') return value;
      if (!cache.has(prop)) cache.set(prop, meterBinding(prop, value));
      return cache.get(prop);
    },
  });
}

/** Counts an invocation of `worker` (`kind`: queue, fetch, rpc); returns the metered env. */
export function meterInvocation<E extends object>(env: E, worker: string, kind: string): E {
  if (!isOn(env)) return env;
  add(`invocations.${worker}.${kind}`);
  return meterEnv(env);
}

/**
 * A Durable Object's state whose SQL storage counts statements and rows written (when on). The
 * state itself must stay the runtime's object (the base class checks its type), so `exec` is
 * replaced on this object's SQL storage instance.
 */
export function meterState(ctx: DurableObjectState, env: unknown, className: string): DurableObjectState {
  if (!isOn(env)) return ctx;
  add(`do_instances.${className}`);
  const sql = ctx.storage.sql;
  const exec = sql.exec.bind(sql);
  try {
    Object.defineProperty(sql, 'exec', {
      configurable: true,
      value: (...args: Parameters<typeof exec>) => {
        const cursor = exec(...args);
        add('do_sql_statements');
        add('do_sql_rows_written', cursor.rowsWritten);
        return cursor;
      },
    });
  } catch {
    add('do_sql_not_metered');
  }
  return ctx;
}

/** Runs one invocation of `worker` with the metered env and flushes its counts (when on). */
export async function withOps<E extends object, T>(
  env: E,
  worker: string,
  kind: string,
  run: (env: E) => Promise<T>,
): Promise<T> {
  if (!isOn(env)) return run(env);
  try {
    return await run(meterInvocation(env, worker, kind));
  } finally {
    flushOps();
  }
}
