import { ApiError } from '../shared/contracts/api-error';
import { parseErrorEnvelope } from '../shared/contracts/errors';

/** A small client for the agent-r HTTP API, used by every CLI command that talks to a stack. */

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  /** `timeoutMs` bounds the whole exchange; pass 0 for downloads of any size. */
  /** A string body with `contentType` is sent as is; any other body as JSON. */
  async request(
    method: string,
    path: string,
    body?: unknown,
    timeoutMs = 120_000,
    contentType?: string,
  ): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    const raw = contentType !== undefined && typeof body === 'string';
    if (body !== undefined) headers['content-type'] = raw ? contentType : 'application/json';
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : raw ? (body as string) : JSON.stringify(body),
        ...(timeoutMs > 0 ? { signal: AbortSignal.timeout(timeoutMs) } : {}),
      });
    } catch (error) {
      throw new ApiError(
        0,
        'unreachable',
        `cannot reach the agent-r API at ${this.baseUrl}: ${(error as Error).message}`,
      );
    }
    if (!response.ok) {
      const text = await response.text();
      // The gateway's error envelope (shared/contracts/errors.ts); anything else as plain text.
      const envelope = parseErrorEnvelope(text);
      const code = envelope?.code ?? 'http_error';
      const message = envelope?.message ?? text.slice(0, 500);
      // Least privilege: say plainly that the token lacks a scope (not that something broke).
      const hint =
        response.status === 403 && code === 'forbidden'
          ? ' (create a token with the needed scope: agent-r token create NAME --scope build|admin)'
          : response.status === 429
            ? ` (rate limited; retry after ${response.headers.get('retry-after') ?? '?'} s)`
            : '';
      throw new ApiError(
        response.status,
        code,
        `${method} ${path}: ${response.status} ${message}${hint}`,
        envelope?.details,
      );
    }
    return response;
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await (await this.request(method, path, body)).json()) as T;
  }
}
