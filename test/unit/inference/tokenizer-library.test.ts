import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { simTokenizerFor } from '../../../cli/sim-policy/tokenizer';
import {
  clearServerInfoCache,
  promptCounterFor,
  promptTokensUpperBound,
} from '../../../shared/inference/server-info';
import {
  libraryPromptTokens,
  libraryTokenizer,
  tokenizerFamilyOf,
} from '../../../shared/inference/tokenizer-library';

describe('tokenizer libraries matched to model families', () => {
  it('maps model ids to families, and unknown ones to none', () => {
    expect(tokenizerFamilyOf('meta-llama/Llama-3.1-8B-Instruct')).toBe('llama3');
    expect(tokenizerFamilyOf('meta-llama/Meta-Llama-3-70B-Instruct')).toBe('llama3');
    expect(tokenizerFamilyOf('llama3.2:3b')).toBe('llama3');
    expect(tokenizerFamilyOf('meta-llama/Llama-4-Scout-17B-16E')).toBe(null);
    expect(tokenizerFamilyOf('meta-llama/Llama-2-7b-chat-hf')).toBe(null);
    expect(tokenizerFamilyOf('gpt-4o-mini')).toBe('o200k_base');
    expect(tokenizerFamilyOf('o3-mini')).toBe('o200k_base');
    expect(tokenizerFamilyOf('gpt-4.1')).toBe('o200k_base');
    expect(tokenizerFamilyOf('gpt-4-turbo')).toBe('cl100k_base');
    expect(tokenizerFamilyOf('gpt-3.5-turbo')).toBe('cl100k_base');
    expect(tokenizerFamilyOf('Qwen/Qwen2.5-7B-Instruct')).toBe(null);
    expect(tokenizerFamilyOf('sim-policy')).toBe(null);
  });

  it("counts fixed strings as the libraries' own test vectors say", async () => {
    const llama3 = (await libraryTokenizer('llama3'))!;
    const cl100k = (await libraryTokenizer('cl100k_base'))!;
    const o200k = (await libraryTokenizer('o200k_base'))!;
    // llama3-tokenizer-js README: encode("Hello world!", { bos: false, eos: false }) -> [9906, 1917, 0];
    // its built-in defaultTests: "\ttabs\t\t\t\tout here" -> [3324, 3518, 573, 14294, 1618], "\n" -> [198].
    expect(llama3.count('Hello world!')).toBe(3);
    expect(llama3.count('\ttabs\t\t\t\tout here')).toBe(5);
    expect(llama3.count('\n')).toBe(1);
    // tiktoken tests/test_encoding.py test_simple: cl100k_base "hello world" -> [15339, 1917];
    // o200k_base "hello world" -> [24912, 2375] (tiktoken's README example encoding).
    expect(cl100k.count('hello world')).toBe(2);
    expect(o200k.count('hello world')).toBe(2);
    expect(llama3.name).toBe('library:llama3-tokenizer-js:llama3');
    expect(cl100k.name).toBe('library:js-tiktoken:cl100k_base');
    // Special-token text inside a message is plain text, never an error.
    expect(cl100k.count('<|endoftext|>')).toBeGreaterThan(1);
  });

  it('frames a Llama 3.1 prompt at least as long as its chat template, rendered and encoded whole', async () => {
    const llama3 = (await libraryTokenizer('llama3'))!;
    const server = await simTokenizerFor('meta-llama/Llama-3.1-8B-Instruct');
    const withSystem = [
      { role: 'system' as const, content: 'You are a crafting agent.' },
      { role: 'user' as const, content: 'Goal: craft 1 stick.\nInventory: [oak planks] (2), id#104729' },
      {
        role: 'assistant' as const,
        content: 'Thought: I have planks.\nAction: craft 1 stick using 2 oak planks',
      },
      { role: 'user' as const, content: 'Crafted 1 minecraft:stick' },
    ];
    const withoutSystem = withSystem.slice(1);
    // With a system turn the pieces add up to the rendered template exactly; without one, the
    // counter's 5 tokens for the system turn the 3.1 template adds are exactly what it adds.
    expect(libraryPromptTokens(llama3, withSystem)).toBe(server.prompt(withSystem) + 5);
    expect(libraryPromptTokens(llama3, withoutSystem)).toBe(server.prompt(withoutSystem));
  });

  it('picks the library tier for an endpoint without /tokenize whose model (or card root) is Llama 3', async () => {
    // A vLLM-like server started with --served-model-name policy: id "policy", root the real model.
    const server = createServer((req, res) => {
      res.writeHead(req.url === '/v1/models' ? 200 : 404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          req.url === '/v1/models'
            ? { data: [{ id: 'policy', root: 'meta-llama/Llama-3.1-8B-Instruct' }] }
            : { detail: 'Not Found' },
        ),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      clearServerInfoCache();
      const endpoint = { baseUrl: `http://127.0.0.1:${port}/v1`, apiKey: '', timeoutMs: 5_000 };
      const aliased = await promptCounterFor({ ...endpoint, model: 'policy' });
      expect(aliased.counter.source).toBe('library:llama3-tokenizer-js:llama3');
      expect(aliased.info.modelRoot).toBe('meta-llama/Llama-3.1-8B-Instruct');
      const messages = [{ role: 'user' as const, content: 'Hello world!' }];
      // 3 tokens of text, 5 of the message's framing, 30 of the prompt's.
      expect(await aliased.counter.count(messages)).toBe(3 + 5 + 30);
      clearServerInfoCache();
      const server2 = await promptCounterFor({
        ...endpoint,
        baseUrl: `http://127.0.0.1:${port}/x/v1`,
        model: 'qwen',
      });
      expect(server2.counter.source).toBe('estimate');
    } finally {
      server.close();
      clearServerInfoCache();
    }
  });

  it("bounds a prompt's tokens from above on Llama 3.1's rendered template and the tiktoken encodings", async () => {
    const server = await simTokenizerFor('meta-llama/Llama-3.1-8B-Instruct');
    const encodings = await Promise.all(
      (['llama3', 'cl100k_base', 'o200k_base'] as const).map(async (f) => (await libraryTokenizer(f))!),
    );
    const texts = [
      'Goal: craft 1 stick.\nInventory: [oak planks] (2)',
      'Crafted 1 minecraft:stick',
      '',
      ' '.repeat(40),
      'x',
      'Ünïcödé ßtraße — “quotes” … ½ °C',
      '日本語のテキストと中文文本，한국어 텍스트',
      '🙂🚀👩\u200d💻 emoji and ZWJ sequences 🏳️\u200d🌈',
      '{"json": [1, 2, 3], "nested": {"a": null}}\n\tfunction f() { return 42; }',
      'a\u0301\u0302\u0303 combining marks, \u0000 NUL, \ud800 lone surrogate',
    ];
    for (const [i, text] of texts.entries()) {
      const messages = [
        { role: 'system' as const, content: texts[(i + 3) % texts.length]! },
        { role: 'user' as const, content: text },
        { role: 'assistant' as const, content: text.split('').reverse().join('') },
      ];
      const bound = promptTokensUpperBound(messages);
      expect(bound).toBeGreaterThanOrEqual(server.prompt(messages));
      for (const tokenizer of encodings)
        expect(bound).toBeGreaterThanOrEqual(libraryPromptTokens(tokenizer, messages));
    }
    // Plain English: the bound is about 4 times the count, so most prompts are far below a budget.
    const english = [
      { role: 'user' as const, content: 'the quick brown fox jumps over the lazy dog '.repeat(50) },
    ];
    expect(promptTokensUpperBound(english)).toBeLessThan(6 * server.prompt(english));
  });
});
