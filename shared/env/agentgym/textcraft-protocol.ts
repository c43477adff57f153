import type { StepResult } from '../types';
import { type FlavorProtocol, clampReward, endpointOf } from './flavor-protocol';
import type { JsonTransport } from './http-transport';
import { type TextCraftClientVersion, textCraftActionFromResponse } from './textcraft-action';
import { closeAnswerSchema, parseWire, textCraftEnvStateSchema, textCraftStepSchema } from './wire';

/**
 * TextCraft server (agentenv-textcraft): key `id`; /create needs a JSON body (`{}`) and already
 * resets the new env to task `id % 544`; errors come as HTTP 200 `{"error"}`; /close exists only
 * in v2025 (404 before).
 */
export function textCraftProtocol(clientVersion: TextCraftClientVersion = 'v2025'): FlavorProtocol {
  return {
    flavor: 'textcraft',

    async create(transport: JsonTransport): Promise<number> {
      const { body } = await transport.request({
        method: 'POST',
        path: '/create',
        body: {},
        safety: 'idempotent',
      });
      return parseWire(textCraftEnvStateSchema, body, endpointOf(transport, 'POST /create')).id;
    },

    async reset(transport, envId, task): Promise<StepResult> {
      const { body } = await transport.request({
        method: 'POST',
        path: '/reset',
        body: { id: envId, data_idx: task },
        safety: 'idempotent',
      });
      const state = parseWire(textCraftEnvStateSchema, body, endpointOf(transport, 'POST /reset'));
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
      const { body } = await transport.request({
        method: 'POST',
        path: '/step',
        body: { id: envId, action },
        safety: 'at-most-once',
      });
      const result = parseWire(textCraftStepSchema, body, endpointOf(transport, 'POST /step'));
      return { observation: result.observation, reward: clampReward(result.reward), done: result.done };
    },

    async close(transport, envId): Promise<void> {
      const { status, body } = await transport.request({
        method: 'POST',
        path: '/close',
        body: { id: envId },
        safety: 'idempotent',
        acceptStatus: [404],
      });
      // 404: a v2024 server without /close. `false`: already gone. Both fine.
      if (status !== 404) parseWire(closeAnswerSchema, body, endpointOf(transport, 'POST /close'));
    },
  };
}
