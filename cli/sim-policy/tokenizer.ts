import type { ChatMessage } from '../../shared/chat';
import { libraryTokenizer, tokenizerFamilyOf } from '../../shared/inference/tokenizer-library';

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

/** How sim-policy counts tokens: with the real tokenizer of its model's family, else `simTokenCount`. */
export interface SimTokenizer {
  /** `sim` or the library's name. */
  name: string;
  text(text: string): number;
  prompt(messages: readonly Pick<ChatMessage, 'role' | 'content'>[]): number;
}

const simTokenizer: SimTokenizer = { name: 'sim', text: simTokenCount, prompt: simPromptTokens };

/**
 * Llama 3.1-3.3's chat template rendered as text (tokenizer_config.json of
 * meta-llama/Llama-3.1-8B-Instruct: the system turn opens with the knowledge and today dates,
 * added even when there is no system message; contents are trimmed); Llama 3's has no dates.
 */
function renderLlama3(messages: readonly Pick<ChatMessage, 'role' | 'content'>[], dated: boolean): string {
  const turn = (role: string, content: string) =>
    `<|start_header_id|>${role}<|end_header_id|>\n\n${content}<|eot_id|>`;
  let text = '<|begin_of_text|>';
  let rest = messages;
  if (dated) {
    const system = messages[0]?.role === 'system' ? messages[0].content : '';
    if (messages[0]?.role === 'system') rest = messages.slice(1);
    text += turn(
      'system',
      `Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n${system.trim()}`,
    );
  }
  for (const m of rest) text += turn(m.role, m.content.trim());
  return `${text}<|start_header_id|>assistant<|end_header_id|>\n\n`;
}

/**
 * The tokenizer of a model id: Llama 3 ids are counted by encoding the rendered chat template
 * whole with llama3-tokenizer-js (special tokens included), the way vLLM counts; GPT ids with
 * js-tiktoken and OpenAI's framing; any other id (e.g. `sim-policy`) with `simTokenCount`.
 */
export async function simTokenizerFor(model: string): Promise<SimTokenizer> {
  const family = tokenizerFamilyOf(model);
  const library = family ? await libraryTokenizer(family) : null;
  if (!family || !library) return simTokenizer;
  if (family === 'llama3') {
    const { default: llama3 } = await import('llama3-tokenizer-js');
    const dated = /3\.[123]/.test(model);
    return {
      name: library.name,
      text: library.count,
      prompt: (messages) => llama3.encode(renderLlama3(messages, dated), { bos: false, eos: false }).length,
    };
  }
  return {
    name: library.name,
    text: library.count,
    prompt: (messages) =>
      messages.reduce((sum, m) => sum + library.count(m.content) + library.perMessage, library.perPrompt),
  };
}
