import { z } from 'zod';
import type { ChatMessage } from '../../shared/chat';

/** The part of an OpenAI chat-completions request sim-policy reads. */
const contentSchema = z.union([
  z.string(),
  z.null(),
  z.array(z.looseObject({ type: z.string(), text: z.string().optional() })),
]);

export const chatRequestSchema = z.looseObject({
  model: z.string().optional(),
  messages: z.array(z.looseObject({ role: z.string(), content: contentSchema.optional() })).min(1),
  n: z.number().int().min(1).max(128).nullish(),
  seed: z.number().int().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  stop: z.union([z.string(), z.array(z.string())]).nullish(),
});
export type ChatRequest = z.infer<typeof chatRequestSchema>;

/** Text turns only (tool turns and images carry nothing the simulator reads). */
export function chatMessages(request: ChatRequest): ChatMessage[] {
  const messages: ChatMessage[] = [];
  for (const m of request.messages) {
    if (m.role !== 'system' && m.role !== 'user' && m.role !== 'assistant') continue;
    const content = Array.isArray(m.content)
      ? m.content.map((part) => part.text ?? '').join('')
      : (m.content ?? '');
    messages.push({ role: m.role, content });
  }
  return messages;
}

export function stopSequences(request: ChatRequest): string[] {
  if (request.stop == null) return [];
  return (Array.isArray(request.stop) ? request.stop : [request.stop]).filter((s) => s !== '');
}

/** About 4 characters per token, as the rest of the project estimates. */
export function countTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Applies stop sequences and the token limit the way a server would. */
export function finishText(text: string, stop: string[], maxTokens: number | undefined) {
  let out = text;
  let finishReason: 'stop' | 'length' = 'stop';
  for (const s of stop) {
    const at = out.indexOf(s);
    if (at >= 0) out = out.slice(0, at);
  }
  if (maxTokens !== undefined && countTokens(out) > maxTokens) {
    out = out.slice(0, maxTokens * 4);
    finishReason = 'length';
  }
  return { text: out, finishReason, tokens: countTokens(out) };
}
