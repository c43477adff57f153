import type { z } from 'zod';
import { errorEnvelopeSchema } from '../../../shared/contracts/errors';

// Small builders so every route declares its body and responses the same way in the OpenAPI document.

export function jsonBody<T extends z.ZodType>(schema: T) {
  return { body: { content: { 'application/json': { schema } }, required: true } } as const;
}

export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { content: { 'application/json': { schema } }, description } as const;
}

const errorContent = { 'application/json': { schema: errorEnvelopeSchema } } as const;

export const errorResponses = {
  400: { content: errorContent, description: 'Invalid request' },
  401: { content: errorContent, description: 'Missing or invalid bearer token' },
} as const;
