import { z } from 'zod';

/** One chat turn as sent to an OpenAI-compatible endpoint. */
export const chatMessageSchema = z.object({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string(),
});
export type ChatMessage = z.infer<typeof chatMessageSchema>;
