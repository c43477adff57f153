import { describe, expect, it } from 'vitest';
import { capText } from '../../../shared/text-cap';

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
