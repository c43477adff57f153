import { z } from 'zod';

/**
 * The raw body of an OpenAI-compatible chat completion, as far as we read it. The AI SDK parses
 * only `choices[0]`, so with `n > 1` the texts of all choices come from this body.
 */
const contentSchema = z.union([
  z.string(),
  z.null(),
  // Some servers send content parts; only text parts carry completion text.
  z.array(z.looseObject({ type: z.string(), text: z.string().optional() })),
]);

export const completionBodySchema = z.looseObject({
  /** The model that answered, as the server names it (vLLM: the served name; OpenAI: the snapshot). */
  model: z.string().nullish(),
  choices: z
    .array(
      z.looseObject({
        index: z.number().int().nonnegative().optional(),
        message: z.looseObject({ content: contentSchema.optional() }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: z
    .looseObject({
      prompt_tokens: z.number().nonnegative().nullish(),
      completion_tokens: z.number().nonnegative().nullish(),
    })
    .nullish(),
});
export type CompletionBody = z.infer<typeof completionBodySchema>;

export interface CompletionChoices {
  texts: string[];
  finishReasons: (string | null)[];
  promptTokens: number | undefined;
  completionTokens: number | undefined;
  /** The completion's `model` field: the id of the model that answered, as the server reports it. */
  model: string | undefined;
}

/** Choices in index order with their text; null when the body is not a chat completion. */
export function readCompletionBody(body: unknown): CompletionChoices | null {
  const parsed = completionBodySchema.safeParse(body);
  if (!parsed.success) return null;
  const choices = parsed.data.choices
    .map((choice, position) => ({ choice, order: choice.index ?? position }))
    .sort((a, b) => a.order - b.order)
    .map(({ choice }) => choice);
  return {
    texts: choices.map((c) => contentText(c.message.content)),
    finishReasons: choices.map((c) => c.finish_reason ?? null),
    promptTokens: parsed.data.usage?.prompt_tokens ?? undefined,
    completionTokens: parsed.data.usage?.completion_tokens ?? undefined,
    model: parsed.data.model || undefined,
  };
}

function contentText(content: z.infer<typeof contentSchema> | undefined): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part) => part.text ?? '').join('');
  return '';
}
