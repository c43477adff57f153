import type { ChatMessage } from '../../shared/chat';

/**
 * A tokenizer-like count for sim-policy, deliberately not "4 characters per token": words split
 * into sub-word pieces of up to 4 letters (a leading space rides with the word, as in BPE
 * vocabularies), numbers into pieces of up to 3 digits (as Llama 3 and GPT-4 split them), every
 * punctuation mark, newline or tab is its own token, and every non-ASCII character is one token.
 * So English prose comes out near 4-5 characters per token while ids, numbers and punctuation-heavy
 * observations come out at 1-3, the way real tokenizers behave.
 */
export function simTokenCount(text: string): number {
  let tokens = 0;
  for (const m of text.matchAll(/ ?[A-Za-z]+| ?[0-9]+|[\n\t]|[^\x00-\x7F]| +|[^A-Za-z0-9\s]/g)) {
    const piece = m[0];
    const body = piece.trimStart();
    if (/^[A-Za-z]+$/.test(body)) tokens += Math.ceil(body.length / 4);
    else if (/^[0-9]+$/.test(body)) tokens += Math.ceil(body.length / 3);
    else tokens += 1;
  }
  return tokens;
}

/** Framing a chat template adds per message (role header and end marker). */
export const SIM_TOKENS_PER_MESSAGE = 4;
/** The assistant header the template appends for the reply. */
export const SIM_GENERATION_PROMPT_TOKENS = 3;

/** Tokens of a chat prompt after the template, as vLLM's /tokenize counts `messages`. */
export function simPromptTokens(messages: readonly Pick<ChatMessage, 'content'>[]): number {
  return (
    messages.reduce((sum, m) => sum + simTokenCount(m.content) + SIM_TOKENS_PER_MESSAGE, 0) +
    SIM_GENERATION_PROMPT_TOKENS
  );
}
