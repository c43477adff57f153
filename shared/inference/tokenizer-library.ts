import type { ChatMessage } from '../chat';

/**
 * Local tokenizer libraries, matched to a model family by its id, for endpoints that do not count
 * tokens for us (no `/tokenize`). Each vocabulary ships inside its npm package (nothing is fetched
 * at run time) and is loaded lazily, once per process or Worker isolate, on first use:
 * - `llama3`: llama3-tokenizer-js (Meta's Llama 3, 3.1, 3.2 and 3.3 vocabulary of 128k tokens);
 * - `cl100k_base` and `o200k_base`: js-tiktoken (OpenAI's GPT-4 / GPT-3.5 and GPT-4o / o-series).
 * Other families (Qwen, Mistral, Gemma, ...) get no library: their counts fall back to the estimate.
 */
export type TokenizerFamily = 'llama3' | 'cl100k_base' | 'o200k_base';

/** Family of a model id (`meta-llama/Llama-3.1-8B-Instruct`, `gpt-4o-mini`, ...); null: none known. */
export function tokenizerFamilyOf(modelId: string): TokenizerFamily | null {
  const id = modelId.toLowerCase().split('/').pop() ?? '';
  // Llama 3.x (not Llama 4, whose vocabulary differs); "llama3", "llama-3.1", "meta-llama-3-8b".
  if (/llama[-_ ]?3(?![0-9])/.test(id)) return 'llama3';
  if (/^(gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o1|o3|o4)(?![0-9])/.test(id)) return 'o200k_base';
  if (/^(gpt-4|gpt-3\.5|gpt-35)(?![0-9])/.test(id)) return 'cl100k_base';
  return null;
}

/** Counts a chat prompt's tokens the way the family's chat template frames it. */
export interface TextTokenizer {
  /** `library:<package>:<encoding>`, as the manifest reports it. */
  name: string;
  /** Tokens of one message's text, without framing. */
  count(text: string): number;
  /** Framing around each message (role header and end marker). */
  perMessage: number;
  /** Framing of the whole prompt: begin-of-text, the reply's header, a preamble the template adds. */
  perPrompt: number;
}

/**
 * Llama 3's chat template: `<|begin_of_text|>` once, each message as
 * `<|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>` (5 tokens of framing: the
 * role is one token, `\n\n` one), then `<|start_header_id|>assistant<|end_header_id|>\n\n` (4) for
 * the reply. Llama 3.1's template also opens the system turn with "Cutting Knowledge Date:
 * December 2023\nToday Date: 26 Jul 2024\n\n" (20 tokens), adding that turn (5) when the prompt
 * has none; both are counted for every Llama 3 model so a 3.1 prompt is never undercounted (a
 * Llama 3.0 prompt is overcounted by at most 25). Source: the chat_template in
 * meta-llama/Llama-3.1-8B-Instruct's tokenizer_config.json.
 */
const LLAMA3_FRAMING = { perMessage: 5, perPrompt: 1 + 4 + 20 + 5 };

/**
 * OpenAI's chat framing as tiktoken's cookbook counts it ("How to count tokens with tiktoken"):
 * 3 tokens per message (`<|start|>{role}<|message|>...<|end|>`) and 3 priming the reply.
 */
const OPENAI_FRAMING = { perMessage: 3, perPrompt: 3 };

async function load(family: TokenizerFamily): Promise<TextTokenizer> {
  if (family === 'llama3') {
    const { default: llama3 } = await import('llama3-tokenizer-js');
    return {
      name: 'library:llama3-tokenizer-js:llama3',
      count: (text) => llama3.encode(text, { bos: false, eos: false }).length,
      ...LLAMA3_FRAMING,
    };
  }
  const { Tiktoken } = await import('js-tiktoken/lite');
  const ranks =
    family === 'o200k_base'
      ? (await import('js-tiktoken/ranks/o200k_base')).default
      : (await import('js-tiktoken/ranks/cl100k_base')).default;
  const encoding = new Tiktoken(ranks);
  return {
    name: `library:js-tiktoken:${family}`,
    // Special-token text in a message is plain text to the chat API: encode it as such.
    count: (text) => encoding.encode(text, [], []).length,
    ...OPENAI_FRAMING,
  };
}

const loaded = new Map<TokenizerFamily, Promise<TextTokenizer | null>>();

/** The family's tokenizer, loaded once; null when its package cannot be loaded here. */
export function libraryTokenizer(family: TokenizerFamily): Promise<TextTokenizer | null> {
  let hit = loaded.get(family);
  if (!hit) {
    hit = load(family).catch(() => null);
    loaded.set(family, hit);
  }
  return hit;
}

/** The tokenizer for a model id, or null when its family has no library (or it fails to load). */
export async function tokenizerForModel(modelId: string): Promise<TextTokenizer | null> {
  const family = tokenizerFamilyOf(modelId);
  return family ? libraryTokenizer(family) : null;
}

/** Tokens of a chat prompt by a library tokenizer, framing included. */
export function libraryPromptTokens(
  tokenizer: TextTokenizer,
  messages: readonly Pick<ChatMessage, 'content'>[],
) {
  return messages.reduce(
    (sum, m) => sum + tokenizer.count(m.content) + tokenizer.perMessage,
    tokenizer.perPrompt,
  );
}
