/**
 * Context-length refusals of the servers people run, read for the numbers they carry, so a caller
 * can shrink the prompt and send again instead of failing. Every format below is the server's
 * own wording; the source of each is named next to its pattern.
 */

export type ContextErrorFormat =
  | 'vllm-messages-completion'
  | 'vllm-messages-only'
  | 'vllm-input-tokens'
  | 'vllm-max-tokens-too-large'
  | 'vllm-output-and-prompt'
  | 'vllm-prompt-characters'
  | 'sglang-total'
  | 'sglang-input-longer'
  | 'tgi-total'
  | 'tgi-input-length'
  | 'openai-messages-resulted'
  | 'generic';

export interface ContextLengthInfo {
  format: ContextErrorFormat;
  /** The model's context length (prompt + completion), when the message states it. */
  limit: number | null;
  /** Prompt tokens as the server counted them (a lower bound for "at least" wordings). */
  promptTokens: number | null;
  /** Completion tokens the request asked for, when stated. */
  completionTokens: number | null;
  /** The message the numbers were read from. */
  message: string;
}

interface Pattern {
  format: ContextErrorFormat;
  re: RegExp;
  read(m: RegExpExecArray): Pick<ContextLengthInfo, 'limit' | 'promptTokens' | 'completionTokens'>;
}

const int = (text: string | undefined): number | null => {
  if (text === undefined) return null;
  const n = Number(text.replace(/,/g, ''));
  return Number.isFinite(n) ? Math.round(n) : null;
};
const N = '([\\d,]+(?:\\.0)?)';

// Most specific first: several vLLM wordings share the "maximum context length is" opening.
const PATTERNS: Pattern[] = [
  {
    // vLLM >= 0.10 (vllm/renderers/params.py; vllm/entrypoints/openai/serving_engine.py in 0.10-0.11):
    // "This model's maximum context length is 8192 tokens. However, you requested 64 output tokens
    //  and your prompt contains [at least] 10000 input tokens, for a total of [at least] 10064 tokens. ..."
    format: 'vllm-output-and-prompt',
    re: new RegExp(
      `maximum context length is ${N} tokens\\. However, you requested ${N} output tokens and your prompt contains (?:at least )?${N} input tokens`,
      'i',
    ),
    read: (m) => ({ limit: int(m[1]), completionTokens: int(m[2]), promptTokens: int(m[3]) }),
  },
  {
    // vLLM renderers/params.py, a prompt refused on its character count before tokenising:
    // "... you requested 64 output tokens and your prompt contains 100000 characters (more than
    //  81280 characters, which is the upper bound for 8128 input tokens). ..."
    format: 'vllm-prompt-characters',
    re: new RegExp(
      `maximum context length is ${N} tokens\\. However, you requested ${N} output tokens and your prompt contains ${N} characters \\(more than ${N} characters, which is the upper bound for ${N} input tokens\\)`,
      'i',
    ),
    // The prompt is longer than the bound: at least one token more than the input bound.
    read: (m) => ({
      limit: int(m[1]),
      completionTokens: int(m[2]),
      promptTokens: (int(m[5]) ?? 0) + 1,
    }),
  },
  {
    // vLLM 0.11 (entrypoints/openai/serving_engine.py), also NVIDIA NIM:
    // "'max_tokens' or 'max_completion_tokens' is too large: 64. This model's maximum context
    //  length is 8192 tokens and your request has 8150 input tokens (64 > 8192 - 8150)."
    format: 'vllm-max-tokens-too-large',
    re: new RegExp(
      `is too large: ${N}\\. This model's maximum context length is ${N} tokens and your request has ${N} input tokens`,
      'i',
    ),
    read: (m) => ({ completionTokens: int(m[1]), limit: int(m[2]), promptTokens: int(m[3]) }),
  },
  {
    // vLLM 0.11 (entrypoints/openai/serving_engine.py), the prompt alone over the length:
    // "This model's maximum context length is 8192 tokens. However, your request has 9000 input
    //  tokens. Please reduce the length of the input messages."
    format: 'vllm-input-tokens',
    re: new RegExp(
      `maximum context length is ${N} tokens\\. However, your request has ${N} input tokens`,
      'i',
    ),
    read: (m) => ({ limit: int(m[1]), promptTokens: int(m[2]), completionTokens: null }),
  },
  {
    // vLLM 0.4-0.9 (entrypoints/openai/serving_engine.py, _validate_input), also OpenAI's older API
    // and several vLLM-derived servers: "This model's maximum context length is 4096 tokens.
    // However, you requested 4596 tokens (4096 in the messages, 500 in the completion). ..."
    format: 'vllm-messages-completion',
    re: new RegExp(
      `maximum context length is ${N} tokens[.,] However,? you requested ${N} tokens \\(${N} in (?:the messages|your prompt)[,;] ${N} (?:in|for) the completion\\)`,
      'i',
    ),
    read: (m) => ({ limit: int(m[1]), promptTokens: int(m[3]), completionTokens: int(m[4]) }),
  },
  {
    // vLLM 0.4-0.9 with no max_tokens given: "This model's maximum context length is 8192 tokens.
    // However, you requested 9000 tokens in the messages, Please reduce the length of the messages."
    format: 'vllm-messages-only',
    re: new RegExp(
      `maximum context length is ${N} tokens\\. However, you requested ${N} tokens in the messages`,
      'i',
    ),
    read: (m) => ({ limit: int(m[1]), promptTokens: int(m[2]), completionTokens: null }),
  },
  {
    // OpenAI (code "context_length_exceeded"): "This model's maximum context length is 8192 tokens.
    // However, your messages resulted in 9000 tokens. Please reduce the length of the messages."
    format: 'openai-messages-resulted',
    re: new RegExp(
      `maximum context length is ${N} tokens\\. However, your messages resulted in ${N} tokens`,
      'i',
    ),
    read: (m) => ({ limit: int(m[1]), promptTokens: int(m[2]), completionTokens: null }),
  },
  {
    // SGLang (srt/entrypoints/openai/serving_chat.py, also iFlow and Cloudflare Workers AI which run
    // it): "Requested token count exceeds the model's maximum context length of 262144 tokens. You
    //  requested a total of 263925 tokens: 199925 tokens from the input messages and 64000 tokens
    //  for the completion. Please reduce the number of tokens in the input messages or ..."
    format: 'sglang-total',
    re: new RegExp(
      `maximum context length of ${N} tokens\\. You requested a total of ${N} tokens: ${N} tokens from the input messages and ${N} tokens for the completion`,
      'i',
    ),
    read: (m) => ({ limit: int(m[1]), promptTokens: int(m[3]), completionTokens: int(m[4]) }),
  },
  {
    // SGLang (srt/managers/tokenizer_manager.py, _validate_one_request), also Together AI:
    // "The input (400013 tokens) is longer than the model's context length (262144 tokens)."
    format: 'sglang-input-longer',
    re: new RegExp(
      `The input \\(${N} tokens\\) is longer than the model's context length \\(${N} tokens\\)`,
      'i',
    ),
    read: (m) => ({ promptTokens: int(m[1]), limit: int(m[2]), completionTokens: null }),
  },
  {
    // TGI (router/src/validation.rs, ValidationError::MaxTotalTokens), HTTP 422:
    // "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 17
    //  `inputs` tokens and 10000 `max_new_tokens`"
    format: 'tgi-total',
    re: new RegExp(
      `\`inputs\` tokens \\+ \`max_new_tokens\` must be <= ${N}\\.(?: Given: ${N} \`inputs\` tokens and ${N} \`max_new_tokens\`)?`,
      'i',
    ),
    read: (m) => ({ limit: int(m[1]), promptTokens: int(m[2]), completionTokens: int(m[3]) }),
  },
  {
    // TGI (router/src/validation.rs, ValidationError::InputLength): the prompt alone over
    // --max-input-tokens: "Input validation error: `inputs` must have less than 4096 tokens. Given: 5000"
    format: 'tgi-input-length',
    re: new RegExp(`\`inputs\` must have less than ${N} tokens\\. Given: ${N}`, 'i'),
    // `limit` here is the input bound, which is what the prompt must fit.
    read: (m) => ({ limit: int(m[1]), promptTokens: int(m[2]), completionTokens: 0 }),
  },
];

const GENERIC =
  /maximum context length|context_length_exceeded|context length exceeded|longer than the model's context length|longer than the maximum model length/i;

/** The human-readable message of an error body: `error.message`, `message`, `error` or the raw text. */
export function errorMessageOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as unknown;
    if (parsed && typeof parsed === 'object') {
      const o = parsed as Record<string, unknown>;
      const err = o.error;
      if (err && typeof err === 'object' && typeof (err as Record<string, unknown>).message === 'string')
        return (err as Record<string, string>).message!;
      if (typeof o.message === 'string') return o.message;
      if (typeof err === 'string') return err;
      if (typeof o.detail === 'string') return o.detail;
    }
  } catch {
    // not JSON: the text itself
  }
  return body;
}

/**
 * The numbers of a context-length refusal, or null when the body is not one. Only 4xx answers
 * qualify (TGI answers 422, the others 400; a 413 from a proxy counts too).
 */
export function parseContextLengthError(
  status: number | undefined,
  body: string | undefined,
): ContextLengthInfo | null {
  if (status === undefined || status < 400 || status >= 500 || !body) return null;
  const message = errorMessageOf(body);
  for (const pattern of PATTERNS) {
    const m = pattern.re.exec(message);
    if (m) return { format: pattern.format, message, ...pattern.read(m) };
  }
  if (GENERIC.test(message) || /"code"\s*:\s*"context_length_exceeded"/.test(body)) {
    return { format: 'generic', message, limit: null, promptTokens: null, completionTokens: null };
  }
  return null;
}

/**
 * The prompt budget to aim for after a refusal: the stated limit minus the completion we ask
 * for, scaled by how far our own count was off from the server's. Null when the message gives
 * no limit (the caller then shrinks by a fixed step).
 */
export function budgetAfterRefusal(
  info: ContextLengthInfo,
  maxTokens: number,
  ourCount: number,
): number | null {
  if (info.limit === null) return null;
  const room = info.format === 'tgi-input-length' ? info.limit - 1 : info.limit - maxTokens;
  if (info.promptTokens === null || info.promptTokens <= 0 || ourCount <= 0) return room;
  // Our counter says `ourCount` where the server says `promptTokens`: budget in our units.
  return Math.floor((room * ourCount) / info.promptTokens);
}
