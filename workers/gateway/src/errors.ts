import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import type { ErrorEnvelope } from '../../../shared/contracts/errors';

// Answering with the one error envelope (shared/contracts/errors.ts); services throw ApiError
// (shared/contracts/api-error.ts) and app.onError calls errorResponse with it.

export function errorResponse(
  c: Context,
  status: ContentfulStatusCode,
  code: string,
  message: string,
  details?: unknown,
) {
  const body: ErrorEnvelope = { error: { code, message, ...(details === undefined ? {} : { details }) } };
  return c.json(body, status);
}

/** Turns zod issues into a readable one-line message plus the issue list. */
export function describeZodError(error: z.ZodError): { message: string; details: unknown } {
  const parts = error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : 'body'}: ${i.message}`);
  return { message: `invalid request: ${parts.join('; ')}`, details: error.issues };
}
