// The one error type of the API, on both sides of the wire. The gateway's services throw it and
// app.onError turns it into the error envelope (shared/contracts/errors.ts); the CLI and the
// dashboard turn an error envelope back into it. No imports, so the dashboard bundle stays small.

export class ApiError extends Error {
  constructor(
    /** The HTTP status (0 on the client side when the API could not be reached). */
    readonly status: number,
    /** A stable machine-readable code, e.g. `not_found`, `invalid_request`. */
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);
