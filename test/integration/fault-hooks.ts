import { runInDurableObject } from 'cloudflare:test';
import { expect, inject } from 'vitest';
import type { CoordinatorBindings } from '../../workers/common/env';
import { api } from './helpers';

/**
 * Test-only fault injection for the integration tests. Real D1 and real Queues (workerd's local
 * implementations) cannot be told to fail for a few seconds, so a Durable Object's bindings are
 * swapped, inside that object, for wrappers that throw while a fault is on and otherwise call the
 * real binding. Nothing here is reachable from product code.
 */

/** The message is ours (a real D1 outage surfaces as a D1_ERROR-prefixed Error too). */
export const INJECTED_D1_ERROR = 'D1_ERROR: injected fault (test): database unavailable';

export interface Fault {
  on: boolean;
  /** How many calls the fault made fail. */
  hits: number;
}

/** A D1 binding that fails every statement while `fault.on`. */
export function faultyD1(real: D1Database, fault: Fault): D1Database {
  const guarded = async <T>(call: () => Promise<T>): Promise<T> => {
    if (fault.on) {
      fault.hits += 1;
      throw new Error(INJECTED_D1_ERROR);
    }
    return call();
  };
  const realOf = new WeakMap<object, D1PreparedStatement>();
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const wrapped = {
      bind: (...values: unknown[]) => wrap(statement.bind(...values)),
      first: (column?: string) => guarded(() => statement.first(column as never)),
      run: () => guarded(() => statement.run()),
      all: () => guarded(() => statement.all()),
      raw: (options?: { columnNames?: boolean }) => guarded(() => statement.raw(options as never)),
    };
    realOf.set(wrapped, statement);
    return wrapped as unknown as D1PreparedStatement;
  };
  return {
    prepare: (query: string) => wrap(real.prepare(query)),
    batch: (statements: D1PreparedStatement[]) =>
      guarded(() => real.batch(statements.map((s) => realOf.get(s) ?? s))),
    exec: (query: string) => guarded(() => real.exec(query)),
    dump: () => real.dump(),
    withSession: () => {
      throw new Error('withSession is not wrapped');
    },
  } as unknown as D1Database;
}

/** A queue whose `send`/`sendBatch` fail while `fault.on`; `once` turns the fault off after a hit. */
export function faultyQueue<T>(real: Queue<T>, fault: Fault, once = false): Queue<T> {
  const check = () => {
    if (!fault.on) return;
    fault.hits += 1;
    if (once) fault.on = false;
    throw new Error('injected fault (test): queue.send failed');
  };
  return {
    send: async (body: T, options?: QueueSendOptions) => {
      check();
      return real.send(body, options);
    },
    sendBatch: async (messages: Iterable<MessageSendRequest<T>>, options?: QueueSendBatchOptions) => {
      check();
      return real.sendBatch(messages, options);
    },
  } as Queue<T>;
}

/** Replaces some bindings of one live Durable Object (until it is evicted). */
export async function patchBindings(
  stub: DurableObjectStub<never> | DurableObjectStub,
  patch: (env: CoordinatorBindings) => Partial<CoordinatorBindings>,
): Promise<void> {
  await runInDurableObject(stub as DurableObjectStub, (instance) => {
    const self = instance as unknown as { env: CoordinatorBindings };
    self.env = { ...self.env, ...patch(self.env) };
  });
}

/**
 * A fresh namespace of the fault proxy (cli/bench/fakes/fault-proxy.ts), armed with `faults`; `base`
 * picks the proxy (default: the one in front of sim-policy and the TextCraft fake).
 */
export async function proxySpace(faults: Record<string, number>, base = inject('faultProxyUrl')) {
  const ns = `ns${crypto.randomUUID().slice(0, 8)}`;
  const armed = await fetch(`${base}/__arm/${ns}`, { method: 'POST', body: JSON.stringify(faults) });
  expect(armed.status).toBe(204);
  return {
    /** Changes the namespace's faults (e.g. ends a delay). */
    arm: async (more: Record<string, number>) =>
      expect(
        (await fetch(`${base}/__arm/${ns}`, { method: 'POST', body: JSON.stringify(more) })).status,
      ).toBe(204),
    llm: `${base}/${ns}/llm/v1`,
    env: `${base}/${ns}/env`,
    stats: async () => (await (await fetch(`${base}/__stats/${ns}`)).json()) as Record<string, number>,
  };
}

/** Registers an endpoint of sim-policy at `baseUrl` (e.g. a proxy namespace) under a fresh name. */
export async function simEndpoint(baseUrl: string, settings: Record<string, unknown> = {}): Promise<string> {
  const name = `ep-${crypto.randomUUID().slice(0, 8)}`;
  const put = await api(`/v1/endpoints/${name}`, {
    method: 'PUT',
    json: { baseUrl, model: 'sim-policy', ...settings },
  });
  expect(put.status).toBe(200);
  return name;
}
