import { ApiError } from '../../shared/contracts/api-error';
import type { ErrorEnvelope } from '../../shared/contracts/errors';

// The API client: every call carries the token from sessionStorage as a bearer header.

const TOKEN_KEY = 'agent-r.token';

export const session = {
  token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set(token: string): void {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  clear(): void {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

/** Fired when the server refuses the token: the shell shows the login form again. */
export const LOGOUT_EVENT = 'agent-r:logout';

function authHeaders(token: string | null, extra?: HeadersInit): Headers {
  const headers = new Headers(extra);
  if (token) headers.set('authorization', `Bearer ${token}`);
  return headers;
}

/** A raw response (downloads); throws ApiError on a non-2xx answer. */
export async function apiFetch(
  path: string,
  init: RequestInit = {},
  token = session.token(),
): Promise<Response> {
  const response = await fetch(path, { ...init, headers: authHeaders(token, init.headers) });
  if (response.ok) return response;
  let code = 'http_error';
  let message = `${response.status} ${response.statusText}`;
  try {
    // The error envelope (shared/contracts/errors.ts; its zod schema stays out of this bundle).
    const body = (await response.json()) as Partial<ErrorEnvelope>;
    code = body.error?.code ?? code;
    message = body.error?.message ?? message;
  } catch {
    // not the JSON error envelope
  }
  if (response.status === 401 && token === session.token()) {
    session.clear();
    window.dispatchEvent(new CustomEvent(LOGOUT_EVENT, { detail: message }));
  }
  throw new ApiError(response.status, code, message);
}

export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await apiFetch(path, init);
  return (await response.json()) as T;
}

/** Like `api`, but a 404 (a route or record that does not exist yet) gives null. */
export async function apiOptional<T>(path: string): Promise<T | null> {
  try {
    return await api<T>(path);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 405)) return null;
    throw error;
  }
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError && error.status === 403)
    return `Not allowed with this token: ${error.message}. Log in with a token that has the needed scope.`;
  if (error instanceof ApiError && error.status === 429) return `Too many requests: ${error.message}`;
  if (error instanceof ApiError) return `${error.message} (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}
