import { z } from 'zod';
import { endpointSchema } from '../inference/endpoint';

// /v1/endpoints as the API answers: an endpoint never shows its key, only whether it has one.

/** GET /v1/endpoints/{name} and each entry of the list. */
export const publicEndpointSchema = endpointSchema.omit({ apiKey: true }).extend({ hasApiKey: z.boolean() });
export type PublicEndpoint = z.infer<typeof publicEndpointSchema>;

/** PUT /v1/endpoints/{name}: the stored endpoint, with a notice when the write dropped its key. */
export const savedEndpointSchema = publicEndpointSchema.extend({
  notice: z
    .string()
    .optional()
    .describe('Set when the write removed the stored key (the base URL moved to another origin)'),
});

/** GET /v1/endpoints. */
export const endpointListSchema = z.object({ endpoints: z.array(publicEndpointSchema) });
