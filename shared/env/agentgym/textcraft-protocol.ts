import type { StepResult } from '../types';
import { type FlavorProtocol, clampReward, closeOnServer, postParsed } from './flavor-protocol';
import type { JsonTransport } from './http-transport';
import { type TextCraftClientVersion, textCraftActionFromResponse } from './textcraft-action';
import { textCraftEnvStateSchema, textCraftStepSchema } from './wire';

/**
 * TextCraft server (agentenv-textcraft): key `id`; /create needs a JSON body (`{}`) and already
 * resets the new env to task `id % 544`; errors come as HTTP 200 `{"error"}`; /close exists only
 * in v2025 (404 before).
 */
export function textCraftProtocol(clientVersion: TextCraftClientVersion = 'v2025'): FlavorProtocol {
  return {
    flavor: 'textcraft',

    async create(transport: JsonTransport): Promise<number> {
      return (await postParsed(transport, '/create', {}, 'idempotent', textCraftEnvStateSchema)).id;
    },

    async reset(transport, envId, task): Promise<StepResult> {
      const reset = { id: envId, data_idx: task };
      const state = await postParsed(transport, '/reset', reset, 'idempotent', textCraftEnvStateSchema);
      return { observation: state.observation, reward: 0, done: false };
    },

    prepareAction(response) {
      const prepared = textCraftActionFromResponse(response, clientVersion);
      if (prepared.kind === 'refused') {
        return { kind: 'refused', result: { observation: prepared.observation, reward: 0, done: false } };
      }
      return { kind: 'send', action: prepared.action };
    },

    async step(transport, envId, action): Promise<StepResult> {
      const result = await postParsed(
        transport,
        '/step',
        { id: envId, action },
        'at-most-once',
        textCraftStepSchema,
      );
      return { observation: result.observation, reward: clampReward(result.reward), done: result.done };
    },

    async close(transport, envId): Promise<void> {
      // 404: a v2024 server without /close. `false`: already gone. Both fine.
      await closeOnServer(transport, { id: envId }, [404]);
    },
  };
}
