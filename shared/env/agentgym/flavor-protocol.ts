import type { z } from 'zod';
import type { AgentGymFlavor, StepResult } from '../types';
import type { JsonRequest, JsonTransport } from './http-transport';
import { closeAnswerSchema, parseWire } from './wire';

/** What to do with a model's response before (or instead of) calling /step. */
export type PreparedAction =
  | { kind: 'send'; action: string }
  /** Refused by the client itself (AgentGym's clients do this too): no server call. */
  | { kind: 'refused'; result: StepResult };

/**
 * One AgentGym server flavour's wire protocol: endpoints, field names and how its raw answers
 * map to normalised `StepResult`s. The session around it adds state, ordering and done-handling.
 */
export interface FlavorProtocol {
  readonly flavor: AgentGymFlavor;
  /** Creates a server-side env and returns its id. */
  create(transport: JsonTransport): Promise<number>;
  reset(transport: JsonTransport, envId: number, task: number): Promise<StepResult>;
  prepareAction(response: string): PreparedAction;
  step(transport: JsonTransport, envId: number, action: string): Promise<StepResult>;
  /** Frees the env where the server can (v2025); tolerates servers without /close (404). */
  close(transport: JsonTransport, envId: number): Promise<void>;
}

/** Clamp a reward into [0, 1]; NaN counts as 0. */
export function clampReward(value: number): number {
  if (!(value > 0)) return 0; // also NaN
  return Math.min(1, value);
}

/** `Action:` extraction shared by the SciWorld and WebShop clients: the text after the marker. */
export function textAfterActionMarker(response: string): string {
  // AgentGym's clients strip a trailing end-of-sequence token some chat templates leave in.
  const withoutEos = response.endsWith('</s>') ? response.slice(0, -'</s>'.length) : response;
  const parts = withoutEos.split('Action:');
  return (parts.length > 1 ? (parts[1] ?? '') : (parts[0] ?? '')).trim();
}

/** Where a response came from, for error messages. */
export function endpointOf(transport: JsonTransport, endpoint: string): { server: string; endpoint: string } {
  return { server: transport.baseUrl, endpoint };
}

/** POSTs `body` to `path` and parses the answer with `schema` (a wrong answer names the endpoint). */
export async function postParsed<T>(
  transport: JsonTransport,
  path: string,
  body: unknown,
  safety: JsonRequest['safety'],
  schema: z.ZodType<T>,
): Promise<T> {
  const { body: answer } = await transport.request({ method: 'POST', path, body, safety });
  return parseWire(schema, answer, endpointOf(transport, `POST ${path}`));
}

/**
 * POST /close with `body`. The statuses in `tolerated` (a server without /close, an id it no
 * longer has) are fine as they are; any other answer must be the close answer.
 */
export async function closeOnServer(
  transport: JsonTransport,
  body: Record<string, number>,
  tolerated: number[],
): Promise<void> {
  const { status, body: answer } = await transport.request({
    method: 'POST',
    path: '/close',
    body,
    safety: 'idempotent',
    acceptStatus: tolerated,
  });
  if (!tolerated.includes(status)) parseWire(closeAnswerSchema, answer, endpointOf(transport, 'POST /close'));
}
