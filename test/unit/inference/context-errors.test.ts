import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChatClient } from '../../../shared/inference/chat-client';
import { budgetAfterRefusal, parseContextLengthError } from '../../../shared/inference/context-errors';
import { InferenceError } from '../../../shared/inference/inference-error';

// Real refusal bodies of each server family, as the servers send them (status, body). Sources:
// vLLM 0.5 entrypoints/openai/serving_engine.py (_validate_prompt_and_tokenize, ErrorResponse at
// top level); vLLM 0.11 serving_engine.py and >= 0.25 renderers/params.py (wrapped in "error");
// SGLang serving_chat.py / tokenizer_manager.py (ErrorResponse at top level); TGI
// router/src/validation.rs (HTTP 422, {"error","error_type"}); OpenAI's API
// (code "context_length_exceeded").
const cases = [
  {
    family: 'vLLM 0.5 (messages + completion)',
    status: 400,
    body: '{"object":"error","message":"This model\'s maximum context length is 2048 tokens. However, you requested 2543 tokens (2043 in the messages, 500 in the completion). Please reduce the length of the messages or completion.","type":"BadRequestError","param":null,"code":400}',
    want: { format: 'vllm-messages-completion', limit: 2048, promptTokens: 2043, completionTokens: 500 },
  },
  {
    family: 'vLLM 0.5 (no max_tokens)',
    status: 400,
    body: '{"object":"error","message":"This model\'s maximum context length is 8192 tokens. However, you requested 9000 tokens in the messages, Please reduce the length of the messages.","type":"BadRequestError","param":null,"code":400}',
    want: { format: 'vllm-messages-only', limit: 8192, promptTokens: 9000, completionTokens: null },
  },
  {
    family: 'vLLM 0.11 (input over the length)',
    status: 400,
    body: '{"error":{"message":"This model\'s maximum context length is 8192 tokens. However, your request has 9000 input tokens. Please reduce the length of the input messages.","type":"BadRequestError","param":null,"code":400}}',
    want: { format: 'vllm-input-tokens', limit: 8192, promptTokens: 9000, completionTokens: null },
  },
  {
    family: 'vLLM 0.11 (max_tokens too large)',
    status: 400,
    body: '{"error":{"message":"\'max_tokens\' or \'max_completion_tokens\' is too large: 16384. This model\'s maximum context length is 65536 tokens and your request has 52189 input tokens (16384 > 65536 - 52189). (parameter=max_tokens, value=16384)","type":"BadRequestError","param":"max_tokens","code":400}}',
    want: { format: 'vllm-max-tokens-too-large', limit: 65536, promptTokens: 52189, completionTokens: 16384 },
  },
  {
    family: 'vLLM >= 0.25 (output and prompt, at least)',
    status: 400,
    body: '{"error":{"message":"This model\'s maximum context length is 32768 tokens. However, you requested 8192 output tokens and your prompt contains at least 24577 input tokens, for a total of at least 32769 tokens. Please reduce the length of the input prompt or the number of requested output tokens. (parameter=input_tokens, value=24577)","type":"BadRequestError","param":"input_tokens","code":400}}',
    want: { format: 'vllm-output-and-prompt', limit: 32768, promptTokens: 24577, completionTokens: 8192 },
  },
  {
    family: 'vLLM >= 0.25 (character bound)',
    status: 400,
    body: '{"error":{"message":"This model\'s maximum context length is 8192 tokens. However, you requested 64 output tokens and your prompt contains 100000 characters (more than 81280 characters, which is the upper bound for 8128 input tokens). Please reduce the length of the input prompt or the number of requested output tokens.","type":"BadRequestError","param":null,"code":400}}',
    want: { format: 'vllm-prompt-characters', limit: 8192, promptTokens: 8129, completionTokens: 64 },
  },
  {
    family: 'SGLang (total)',
    status: 400,
    body: '{"object":"error","message":"Requested token count exceeds the model\'s maximum context length of 262144 tokens. You requested a total of 263925 tokens: 199925 tokens from the input messages and 64000 tokens for the completion. Please reduce the number of tokens in the input messages or the completion to fit within the limit.","type":"BadRequestError","param":null,"code":400}',
    want: { format: 'sglang-total', limit: 262144, promptTokens: 199925, completionTokens: 64000 },
  },
  {
    family: 'SGLang (input longer)',
    status: 400,
    body: '{"object":"error","message":"The input (400013 tokens) is longer than the model\'s context length (262144 tokens).","type":"BadRequestError","param":null,"code":400}',
    want: { format: 'sglang-input-longer', limit: 262144, promptTokens: 400013, completionTokens: null },
  },
  {
    family: 'TGI (total)',
    status: 422,
    body: '{"error":"Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 3700 `inputs` tokens and 500 `max_new_tokens`","error_type":"validation"}',
    want: { format: 'tgi-total', limit: 4096, promptTokens: 3700, completionTokens: 500 },
  },
  {
    family: 'TGI (input length)',
    status: 422,
    body: '{"error":"Input validation error: `inputs` must have less than 4096 tokens. Given: 5000","error_type":"validation"}',
    want: { format: 'tgi-input-length', limit: 4096, promptTokens: 5000, completionTokens: 0 },
  },
  {
    family: 'OpenAI',
    status: 400,
    body: '{"error":{"message":"This model\'s maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens. Please reduce the length of the messages.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}',
    want: { format: 'openai-messages-resulted', limit: 8192, promptTokens: 9000, completionTokens: null },
  },
];

describe('parseContextLengthError', () => {
  for (const c of cases) {
    it(`reads ${c.family}`, () => {
      expect(parseContextLengthError(c.status, c.body)).toMatchObject(c.want);
    });
  }

  it('ignores other 400s, 5xx and success answers', () => {
    expect(
      parseContextLengthError(400, '{"error":{"message":"invalid temperature","type":"BadRequestError"}}'),
    ).toBe(null);
    expect(parseContextLengthError(500, cases[0]!.body)).toBe(null);
    expect(parseContextLengthError(200, cases[0]!.body)).toBe(null);
    expect(parseContextLengthError(400, undefined)).toBe(null);
  });

  it('recognises a refusal it cannot read numbers from', () => {
    const info = parseContextLengthError(
      400,
      '{"error":{"message":"too long","code":"context_length_exceeded"}}',
    );
    expect(info).toMatchObject({ format: 'generic', limit: null });
  });

  it('turns the numbers into a budget in our own units', () => {
    const info = parseContextLengthError(cases[0]!.status, cases[0]!.body)!;
    // The server counted 2043 where we counted 1500: 1548 server tokens of room = 1136 of ours.
    expect(budgetAfterRefusal(info, 500, 1500)).toBe(Math.floor((1548 * 1500) / 2043));
  });
});

describe('the chat client against a loopback server answering real refusals', () => {
  let server: Server;
  let url = '';
  let next = cases[0]!;
  beforeAll(async () => {
    // Returns the stored body verbatim; no logic beyond that.
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(next.status, { 'content-type': 'application/json' });
        res.end(next.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  for (const c of cases) {
    it(`classifies ${c.family} as context-length, not retried`, async () => {
      next = c;
      const chat = createChatClient({ name: 'real', baseUrl: url, model: 'm', timeoutMs: 5_000 });
      const error = await chat
        .sample({ messages: [{ role: 'user', content: 'hi' }] })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InferenceError);
      expect((error as InferenceError).kind).toBe('context-length');
      expect((error as InferenceError).attempts).toBe(1);
      expect((error as InferenceError).context).toMatchObject(c.want);
    });
  }
});
