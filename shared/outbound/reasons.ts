// Failure reasons shown to API users for calls to servers we do not control (endpoints, AgentGym
// servers, webhook receivers): the status and a short fixed phrase, never the server's body or
// headers (which may echo keys, internal hostnames or tokens). Full detail goes to the logs only.

/** Reason phrases of RFC 9110 s.15 (and 429 from RFC 6585). */
const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** `HTTP 503 Service Unavailable`; 3xx answers say the redirect was not followed. */
export function httpFailureReason(status: number): string {
  if (status >= 200 && status < 300) return `HTTP ${status}`;
  if (status >= 300 && status < 400) return `HTTP ${status} redirect (not followed)`;
  const phrase = REASONS[status] ?? (status >= 500 ? 'server error' : 'client error');
  return `HTTP ${status} ${phrase}`;
}

/** A failure without an answer: timeout or connection error, named by kind only. */
export function networkFailureReason(error: unknown): string {
  const name = error instanceof Error ? error.name : '';
  if (name === 'TimeoutError' || name === 'AbortError') return 'no answer before the timeout';
  return 'cannot connect to the server';
}

/** The parts of an environment-server failure (shared/env/agentgym/errors.ts) safe to show. */
export interface EnvFailure {
  kind: string;
  endpoint: string;
  server: string;
  status?: number | undefined;
  message: string;
}

/**
 * An AgentGym server failure as API users see it: which call, which server, what kind, the status.
 * The message of the error itself may quote the server's body, so only our own kinds keep it.
 */
export function envFailureReason(error: EnvFailure): string {
  const where = `${error.endpoint} on ${error.server}`;
  const status = error.status === undefined ? '' : ` (${httpFailureReason(error.status)})`;
  switch (error.kind) {
    case 'state-lost':
    case 'misuse':
      return error.message; // our own wording, no server text
    case 'unavailable':
      return `${where}: the server could not be reached or kept failing${status}`;
    case 'timeout':
      return `${where}: no answer before the timeout`;
    case 'invalid-id':
      return `${where}: the server does not know the env id${status}`;
    case 'env-error':
      return `${where}: the server reported an error${status}`;
    default:
      return `${where}: unexpected answer (${error.kind})${status}`;
  }
}
