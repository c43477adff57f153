import type { StepResult } from '../types';
import { EnvError } from './errors';
import {
  type FlavorProtocol,
  clampReward,
  closeOnServer,
  endpointOf,
  textAfterActionMarker,
} from './flavor-protocol';
import type { JsonTransport } from './http-transport';
import { parseWire, webShopCreateSchema, webShopResetSchema, webShopStepSchema } from './wire';

/**
 * WebShop server (agentenv-webshop): the key is `env_idx`; /create takes no body and answers a
 * bare integer (a random id); /reset takes `{env_idx, session_id}` and answers
 * `[observation, null]`; /step answers `{state, reward, done, info}`. Failures are HTTP 500
 * (an exception, e.g. an unknown env_idx) or 422 (a missing field), never `{"error"}`.
 * /close (answering `{closed}`) exists only in v2025; /list_envs in both versions.
 */
export function webShopProtocol(): FlavorProtocol {
  return {
    flavor: 'webshop',

    async create(transport: JsonTransport): Promise<number> {
      const { body } = await transport.request({ method: 'POST', path: '/create', safety: 'idempotent' });
      return parseWire(webShopCreateSchema, body, endpointOf(transport, 'POST /create'));
    },

    async reset(transport, envId, task): Promise<StepResult> {
      const body = await withUnknownIdCheck(transport, envId, () =>
        transport.request({
          method: 'POST',
          path: '/reset',
          body: { env_idx: envId, session_id: task },
          safety: 'idempotent',
        }),
      );
      const [observation] = parseWire(webShopResetSchema, body, endpointOf(transport, 'POST /reset'));
      return { observation, reward: 0, done: false };
    },

    prepareAction(response) {
      return { kind: 'send', action: textAfterActionMarker(response) };
    },

    async step(transport, envId, action): Promise<StepResult> {
      const body = await withUnknownIdCheck(transport, envId, () =>
        transport.request({
          method: 'POST',
          path: '/step',
          body: { env_idx: envId, action },
          safety: 'at-most-once',
        }),
      );
      const result = parseWire(webShopStepSchema, body, endpointOf(transport, 'POST /step'));
      return { observation: result.state, reward: clampReward(result.reward), done: result.done };
    },

    async close(transport, envId): Promise<void> {
      await closeOnServer(transport, { env_idx: envId }, [404]);
    },
  };
}

/**
 * WebShop answers an unknown env_idx with a bare HTTP 500, indistinguishable from a crash.
 * On a 500 we ask /list_envs whether the id exists, to report `invalid-id` precisely.
 */
async function withUnknownIdCheck(
  transport: JsonTransport,
  envId: number,
  call: () => Promise<{ body: unknown }>,
): Promise<unknown> {
  try {
    return (await call()).body;
  } catch (error) {
    if (!(error instanceof EnvError) || error.status !== 500) throw error;
    if ((await envIdKnown(transport, envId)) === false) {
      throw new EnvError(`the server does not know env_idx ${envId} (HTTP 500; absent from /list_envs)`, {
        kind: 'invalid-id',
        server: error.server,
        endpoint: error.endpoint,
        status: 500,
        attempts: error.attempts,
        cause: error,
      });
    }
    throw error;
  }
}

async function envIdKnown(transport: JsonTransport, envId: number): Promise<boolean | undefined> {
  try {
    const { status, body } = await transport.request({
      method: 'GET',
      path: '/list_envs',
      safety: 'idempotent',
      acceptStatus: [404],
    });
    if (status !== 200 || !Array.isArray(body)) return undefined;
    return body.includes(envId);
  } catch {
    return undefined;
  }
}
