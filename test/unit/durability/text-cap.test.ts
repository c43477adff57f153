import { describe, expect, it } from 'vitest';
import { runSpecSchema } from '../../../shared/contracts/run-spec';
import { estimatePromptTokens } from '../../../shared/inference/server-info';
import { smallestFittingDrop } from '../../../shared/prompts/fit-prompt';
import { policyPromptForRun } from '../../../shared/run-conversation';
import { capText, contextTextCap, DEFAULT_MAX_TEXT_CHARS, effectiveTextCap } from '../../../shared/text-cap';

describe('capText', () => {
  it('keeps text within the cap as it is', () => {
    expect(capText('abc', 3, 'completion')).toBe('abc');
  });

  it('cuts longer text and says what was cut, how long it was and the cap', () => {
    const out = capText('x'.repeat(5000), 1000, 'observation');
    expect(out.startsWith('x'.repeat(1000))).toBe(true);
    expect(out.slice(1000)).toBe('\n[agent-r: observation truncated: 5000 characters, the cap is 1000]');
  });

  it('never splits a surrogate pair', () => {
    const out = capText(`ab${'😀'.repeat(10)}`, 3, 'completion');
    // 'a', 'b', then half of the emoji would be index 2: it is left out whole.
    expect(out.startsWith('ab\n[agent-r:')).toBe(true);
    expect(out).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });
});

describe('the context-relative cap', () => {
  it('is the configured cap or what fits the context, whichever is less', () => {
    // 8192 - 500 = 7692 tokens, a sixth is 1282, at 3 characters per token.
    expect(contextTextCap({ contextTokens: 8192, maxTokens: 500 })).toBe(3846);
    expect(effectiveTextCap(undefined, { contextTokens: 8192, maxTokens: 500 })).toBe(3846);
    expect(effectiveTextCap(2000, { contextTokens: 8192, maxTokens: 500 })).toBe(2000);
    expect(effectiveTextCap(undefined, { contextTokens: 1_000_000, maxTokens: 500 })).toBe(
      DEFAULT_MAX_TEXT_CHARS,
    );
    expect(contextTextCap({ contextTokens: 600, maxTokens: 500 })).toBe(1000);
  });

  it('a conversation of 3 MB texts cut to it fits the context with the task and the latest step', async () => {
    const spec = runSpecSchema.parse({ tasks: [0] });
    const cap = effectiveTextCap(spec.maxObservationChars, spec);
    const huge = (c: string) => capText(`Thought: ${c.repeat(3_000_000)}\nAction: wait`, cap, 'completion');
    const path = [
      { observation: capText('B'.repeat(3_000_000), cap, 'observation'), response: '' },
      ...Array.from({ length: 6 }, (_, i) => ({ response: huge(String(i)), observation: huge('C') })),
    ] as unknown as Parameters<typeof policyPromptForRun>[1];
    const budget = spec.contextTokens - spec.maxTokens;
    const fitted = await smallestFittingDrop(policyPromptForRun(spec, path), budget, async (m) =>
      estimatePromptTokens(m),
    );
    expect(fitted.fits).toBe(true);
    // The smallest prompt fits even counted at 3 characters a token (a less generous tokenizer).
    const prompt = policyPromptForRun(spec, path);
    const chars = prompt.build(prompt.maxDrop).reduce((n, m) => n + m.content.length, 0);
    expect(chars / 3).toBeLessThan(budget);
    // Without the context cap (256 Ki characters) it cannot fit.
    const uncut = [{ ...path[0]!, observation: capText('B'.repeat(3_000_000), DEFAULT_MAX_TEXT_CHARS, 'o') }];
    const tooBig = await smallestFittingDrop(policyPromptForRun(spec, uncut), budget, async (m) =>
      estimatePromptTokens(m),
    );
    expect(tooBig.fits).toBe(false);
  });
});
