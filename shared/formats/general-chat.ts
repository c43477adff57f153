import { z } from 'zod';
import type { LossMessage } from '../revision/conversation';
import { stableHash } from '../revision/stable-hash';
import type { TrainingExample } from './training-example';

// User-supplied general chat data (the (1 - eta) part of the paper's loss), in OpenAI
// `messages` form or ShareGPT `conversations` form. Every assistant turn is trained unless it
// says otherwise (`weight: 0` or `loss: false`).

const openaiChatSchema = z.object({
  id: z.union([z.string(), z.number()]).optional(),
  messages: z
    .array(
      z.object({
        role: z.enum(['system', 'user', 'assistant']),
        content: z.string(),
        weight: z.union([z.literal(0), z.literal(1)]).optional(),
      }),
    )
    .min(1),
});

const sharegptChatSchema = z.object({
  id: z.union([z.string(), z.number()]).optional(),
  system: z.string().optional(),
  conversations: z
    .array(
      z.object({
        from: z.enum(['system', 'human', 'user', 'gpt', 'assistant', 'observation', 'function_call']),
        value: z.string(),
        loss: z.boolean().nullable().optional(),
      }),
    )
    .min(1),
});

const roleOf = {
  system: 'system',
  human: 'user',
  user: 'user',
  observation: 'user',
  gpt: 'assistant',
  assistant: 'assistant',
  function_call: 'assistant',
} as const;

/** Reads one general chat record; throws a readable error on anything else. */
export function generalChatToExample(raw: unknown): TrainingExample {
  const openai = openaiChatSchema.safeParse(raw);
  let messages: LossMessage[];
  let givenId: string | number | undefined;
  if (openai.success) {
    givenId = openai.data.id;
    messages = openai.data.messages.map((m) =>
      m.role === 'assistant'
        ? { role: m.role, content: m.content, loss: m.weight !== 0 }
        : { role: m.role, content: m.content },
    );
  } else {
    const sharegpt = sharegptChatSchema.safeParse(raw);
    if (!sharegpt.success) {
      throw new Error(
        'general chat record is neither {"messages":[{role,content}]} nor {"conversations":[{from,value}]}',
      );
    }
    givenId = sharegpt.data.id;
    messages = sharegpt.data.system ? [{ role: 'system', content: sharegpt.data.system }] : [];
    for (const turn of sharegpt.data.conversations) {
      const role = roleOf[turn.from];
      messages.push(
        role === 'assistant'
          ? { role, content: turn.value, loss: turn.loss !== false }
          : { role, content: turn.value },
      );
    }
  }
  const id = givenId === undefined ? stableHash('general', JSON.stringify(messages)) : `general-${givenId}`;
  return { id, kind: 'general', messages };
}
