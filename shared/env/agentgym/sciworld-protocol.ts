import type { StepResult } from '../types';
import {
  type FlavorProtocol,
  clampReward,
  closeOnServer,
  endpointOf,
  postParsed,
  textAfterActionMarker,
} from './flavor-protocol';
import type { JsonTransport } from './http-transport';
import { isEnvError } from './errors';
import { focusInSight, mapSciWorldAction, sciWorldCandidates } from './sciworld-actions';
import {
  parseWire,
  sciWorldActionHintSchema,
  sciWorldCreateSchema,
  sciWorldResetSchema,
  sciWorldStateSchema,
  sciWorldStepSchema,
} from './wire';

/** ScienceWorld's score of a failed episode ("disaster"); it ends the episode. */
export const SCIWORLD_FAILURE_SCORE = -100;

/**
 * SciWorld server (agentenv-sciworld): key `id`; /create takes no body and starts a JVM per env;
 * the first observation is `task_description + "\n" + observation` (as AgentGym's client builds
 * it); the reward is `score / 100` (AgentGym uses the cumulative score as the reward); a negative
 * score is a terminal failure. A /step after done is an error on the server, so the session never
 * sends one. /close exists in v2025 only (404 before; 500 for an unknown id).
 */
export function sciWorldProtocol(options: { mapActions?: boolean } = {}): FlavorProtocol {
  return {
    flavor: 'sciworld',

    async create(transport: JsonTransport): Promise<number> {
      // {"error"} from /create is a failed JVM start: worth another try.
      const { body } = await transport.request({
        method: 'POST',
        path: '/create',
        safety: 'idempotent',
        retryErrorBodies: true,
      });
      return parseWire(sciWorldCreateSchema, body, endpointOf(transport, 'POST /create')).id;
    },

    async reset(transport, envId, task): Promise<StepResult> {
      const reset = { id: envId, data_idx: task };
      const state = await postParsed(transport, '/reset', reset, 'idempotent', sciWorldResetSchema);
      return { observation: `${state.task_description}\n${state.observation}`, reward: 0, done: false };
    },

    prepareAction(response) {
      return { kind: 'send', action: textAfterActionMarker(response) };
    },

    async step(transport, envId, action): Promise<StepResult> {
      // As the reference plays SciWorld: the action mapped to a valid one (sciworld-actions.ts).
      const sent = options.mapActions ? await mapOnServer(transport, envId, action) : action;
      const step = { id: envId, action: sent };
      const result = await postParsed(transport, '/step', step, 'at-most-once', sciWorldStepSchema);
      const normalised = normaliseSciWorldScore(result.observation, result.score, result.done);
      return sent === action ? normalised : { ...normalised, sentAction: sent };
    },

    async close(transport, envId): Promise<void> {
      // 404: v2024 server without /close; 500: v2025's answer for an id it no longer has.
      await closeOnServer(transport, { id: envId }, [404, 500]);
    },
  };
}

/** The valid action closest to `action` among what the server offers in the env's state now. */
async function mapOnServer(transport: JsonTransport, envId: number, action: string): Promise<string> {
  const { body } = await transport.request({
    method: 'GET',
    path: '/action_hint',
    query: { id: envId },
    safety: 'idempotent',
  });
  const hint = parseWire(sciWorldActionHintSchema, body, endpointOf(transport, 'GET /action_hint'));
  const candidates = sciWorldCandidates({
    possibleActions: hint.possible_actions,
    possibleObjects: hint.possible_objects,
  });
  const mapped = mapSciWorldAction(action, candidates).action;
  if (!mapped.startsWith('focus on ')) return mapped;
  const sight = await freeLook(transport, envId);
  return sight === null ? mapped : mapSciWorldAction(action, focusInSight(candidates, sight)).action;
}

/** A free look-around plus the inventory (GET /state, v2025); null when the server has no /state. */
async function freeLook(transport: JsonTransport, envId: number): Promise<string | null> {
  try {
    const { status, body } = await transport.request({
      method: 'GET',
      path: '/state',
      query: { id: envId },
      safety: 'idempotent',
      acceptStatus: [404],
    });
    if (status === 404) return null;
    const state = parseWire(sciWorldStateSchema, body, endpointOf(transport, 'GET /state'));
    return `${state.observation}\n${state.inventory}`;
  } catch (error) {
    // An {"error"} or odd body from an optional route: map without the filter (rule 6 skipped).
    if (isEnvError(error) && (error.kind === 'env-error' || error.kind === 'protocol')) return null;
    throw error;
  }
}

/** Score 0..100 -> reward 0..1; a negative score -> failed, terminal, reward 0. */
export function normaliseSciWorldScore(observation: string, score: number, done: boolean): StepResult {
  if (score < 0) return { observation, reward: 0, done: true, failed: true };
  return { observation, reward: clampReward(score / 100), done };
}
