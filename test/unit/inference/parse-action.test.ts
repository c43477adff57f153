import { describe, expect, it } from 'vitest';
import { parseAction } from '../../../shared/inference/parse-action';

describe('parseAction (reference semantics)', () => {
  it('takes the text after the last Action: marker, stripped', () => {
    expect(parseAction('Thought: get wood first.\nAction: get 1 oak logs\n')).toBe('get 1 oak logs');
    expect(parseAction('Thought:\nplan\n\nAction:\n  craft 4 stick using 2 oak planks  ')).toBe(
      'craft 4 stick using 2 oak planks',
    );
    expect(parseAction('Action: get 1 a\nThought: no wait\nAction: get 2 b')).toBe('get 2 b');
  });

  it('drops a leading list number', () => {
    expect(parseAction('Action: 1. get 2 planks')).toBe('get 2 planks');
    expect(parseAction('Action: 12.  inventory')).toBe('inventory');
    // Not a list number: a count directly followed by the item.
    expect(parseAction('Action: 2 planks')).toBe('2 planks');
  });

  it('falls back to the last non-empty line without a marker', () => {
    expect(parseAction('I should look around.\ninventory\n\n')).toBe('inventory');
    expect(parseAction('')).toBe('');
  });
});
