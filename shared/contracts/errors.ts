import { z } from 'zod';

/** The one error envelope every failure of the API uses: `{ error: { code, message, details? } }`. */
export const errorEnvelopeSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});
export type ErrorEnvelope = z.infer<typeof errorEnvelopeSchema>;

/** The envelope's error from a response body, or null when the body is not the envelope. */
export function parseErrorEnvelope(text: string): ErrorEnvelope['error'] | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = errorEnvelopeSchema.safeParse(json);
  return parsed.success ? parsed.data.error : null;
}
