import { z } from 'zod';
import type { NativeRecord } from '../revision/native-record';
import { asExample, type TrainingExample, trainedIndices, trimTrailingTurns } from './training-example';

/**
 * TRL SFTTrainer, conversational. 'prompt-completion' (default): the prompt runs up to the
 * first trained turn (revision records: root prefix + bad steps up to t' with their
 * observations; good records: the root prefix) and the completion is the rest (the
 * reflection, `ok.` and the good suffix). With completion_only_loss the observations and
 * `ok.` inside the completion are trained too, unless assistant_only_loss is also set
 * (TRL_COMPLETION_WARNING). 'messages' writes whole conversations: with assistant_only_loss
 * the bad steps are trained as well, so the mask is lost (TRL_MESSAGES_WARNING).
 */
export const trlMessageSchema = z.object({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string(),
});
export const trlPromptCompletionSchema = z.object({
  prompt: z.array(trlMessageSchema).min(1),
  completion: z.array(trlMessageSchema).min(1),
});
export const trlMessagesSchema = z.object({ messages: z.array(trlMessageSchema).min(1) });
export type TrlPromptCompletion = z.infer<typeof trlPromptCompletionSchema>;
export type TrlMessages = z.infer<typeof trlMessagesSchema>;
export type TrlRecord = TrlPromptCompletion | TrlMessages;

export type TrlMode = 'prompt-completion' | 'messages';

export const TRL_COMPLETION_WARNING =
  'trl prompt/completion: the completion holds environment observations and the "ok." turn; with completion_only_loss ' +
  'they are trained too. Also set assistant_only_loss=True (needs a chat template with generation markers) to train ' +
  'only the reflection and the good actions.';

export const TRL_MESSAGES_WARNING =
  'trl mode "messages" loses the Agent-R loss mask: with assistant_only_loss every assistant turn is trained, including ' +
  'the bad steps before the reflection. Use mode "prompt-completion" to keep the bad prefix out of the loss.';

const plain = (m: { role: 'system' | 'user' | 'assistant'; content: string }) => ({
  role: m.role,
  content: m.content,
});

/** The TRL record, or null when the example trains nothing. */
export function toTrl(
  input: NativeRecord | TrainingExample,
  mode: TrlMode = 'prompt-completion',
): TrlRecord | null {
  const messages = trimTrailingTurns(asExample(input).messages);
  const first = trainedIndices(messages)[0];
  if (first === undefined) return null;
  if (mode === 'messages') return { messages: messages.map(plain) };
  if (first === 0) throw new Error('a trained turn needs a prompt before it');
  return { prompt: messages.slice(0, first).map(plain), completion: messages.slice(first).map(plain) };
}
