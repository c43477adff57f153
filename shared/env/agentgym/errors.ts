/**
 * Why a call to an AgentGym environment server failed. Callers branch on `kind`:
 * - `unavailable`: could not reach the server, or it kept answering 5xx, after every attempt.
 * - `timeout`: the server did not answer within the time limit (after every allowed attempt).
 * - `server-error`: a 5xx that is not retried (e.g. WebShop's 500 on /step: the outcome is unknown).
 * - `protocol`: the answer has an unexpected shape or status (4xx, non-JSON, missing fields).
 * - `invalid-id`: the server does not know the env id (it restarted, or the env was closed).
 * - `env-error`: the server reported a semantic failure (`HTTP 200 {"error": ...}`).
 * - `state-lost`: an earlier step's outcome is unknown, so the env must be reset before stepping.
 * - `misuse`: the session was used out of order (step before reset, use after close).
 */
export type EnvErrorKind =
  | 'unavailable'
  | 'timeout'
  | 'server-error'
  | 'protocol'
  | 'invalid-id'
  | 'env-error'
  | 'state-lost'
  | 'misuse';

export interface EnvErrorDetails {
  kind: EnvErrorKind;
  /** Base URL of the environment server. */
  server: string;
  /** e.g. `POST /step`. */
  endpoint: string;
  status?: number;
  attempts?: number;
  cause?: unknown;
}

export class EnvError extends Error {
  readonly kind: EnvErrorKind;
  readonly server: string;
  readonly endpoint: string;
  readonly status: number | undefined;
  readonly attempts: number | undefined;

  constructor(message: string, details: EnvErrorDetails) {
    super(`${details.endpoint} on ${details.server}: ${message}`, { cause: details.cause });
    this.name = 'EnvError';
    this.kind = details.kind;
    this.server = details.server;
    this.endpoint = details.endpoint;
    this.status = details.status;
    this.attempts = details.attempts;
  }
}

export function isEnvError(error: unknown, kind?: EnvErrorKind): error is EnvError {
  return error instanceof EnvError && (kind === undefined || error.kind === kind);
}
