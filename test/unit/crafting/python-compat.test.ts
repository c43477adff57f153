import { describe, expect, it } from 'vitest';
import { itemTagWithCountRepr, pythonRepr, pythonStrip } from '../../../shared/env/crafting/python-compat';

describe('Python behaviours TextCraft messages rely on', () => {
  it('repr() of str picks quotes and escapes like CPython', () => {
    expect(pythonRepr(null)).toBe('None');
    expect(pythonRepr('minecraft:stick')).toBe("'minecraft:stick'");
    expect(pythonRepr("it's")).toBe(`"it's"`);
    expect(pythonRepr(`it's "x"`)).toBe(`'it\\'s "x"'`);
    expect(pythonRepr('a\\b\tc\nd\re')).toBe("'a\\\\b\\tc\\nd\\re'");
    expect(pythonRepr('\x01\x7f\xa0é€')).toBe("'\\x01\\x7f\\xa0é€'");
    expect(pythonRepr('\u200b\u2028')).toBe("'\\u200b\\u2028'");
  });

  it('str.strip() uses Python whitespace, not JavaScript trim()', () => {
    expect(pythonStrip(' \t\n 1 stick \x1f')).toBe('1 stick');
    expect(pythonStrip('\ufeff1 stick')).toBe('\ufeff1 stick');
    expect(pythonStrip('\u30001 stick\x85')).toBe('1 stick');
  });

  it('formats ItemTagWithCount like the dataclass repr', () => {
    expect(itemTagWithCountRepr(null, 'minecraft:furnace', 1n)).toBe(
      "ItemTagWithCount(item_tag=ItemTag(tag=None, item_id='minecraft:furnace'), count=1)",
    );
    expect(itemTagWithCountRepr('minecraft:planks', null, 12345678901234567890n)).toBe(
      "ItemTagWithCount(item_tag=ItemTag(tag='minecraft:planks', item_id=None), count=12345678901234567890)",
    );
  });
});
