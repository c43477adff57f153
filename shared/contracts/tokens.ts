import { z } from 'zod';

// API tokens as the API shows them (GET/POST/DELETE /v1/tokens): never the token itself, except
// once in the answer that created it.

export const tokenViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  scopes: z.array(z.string()).describe('read, build and/or admin (each includes the ones before)'),
  createdAt: z.number(),
  expiresAt: z.number().nullable().describe('After this (epoch ms) the token is refused; null: never'),
  revokedAt: z.number().nullable(),
  lastUsedAt: z.number().nullable().describe('Last request with it (to the minute)'),
});
export type TokenView = z.infer<typeof tokenViewSchema>;

/** POST /v1/tokens: the new token's view and, this once, the token. */
export const tokenCreatedSchema = tokenViewSchema.extend({ token: z.string() });
export type TokenCreated = z.infer<typeof tokenCreatedSchema>;

/** GET /v1/tokens. */
export const tokenListSchema = z.object({ tokens: z.array(tokenViewSchema) });
