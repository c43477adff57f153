/**
 * The few Python behaviours TextCraft's messages depend on, so observations match the real
 * server byte for byte: `str.strip()`, `repr(str)` and the dataclass repr of `ItemTagWithCount`.
 */

// Characters Python's str.isspace() accepts (str.strip() removes them); JS trim() differs
// (it keeps \x1c-\x1f and \x85 and strips \ufeff).
const PYTHON_WHITESPACE =
  '\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const LEADING = new RegExp(`^[${PYTHON_WHITESPACE}]+`);
const TRAILING = new RegExp(`[${PYTHON_WHITESPACE}]+$`);

export function pythonStrip(text: string): string {
  return text.replace(LEADING, '').replace(TRAILING, '');
}

// Python escapes what str.isprintable() rejects: control/format/unassigned/surrogates and every
// separator except the plain space.
const NON_PRINTABLE = /[\p{C}\p{Z}]/u;

function escapeChar(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  if (char === '\\') return '\\\\';
  if (char === '\n') return '\\n';
  if (char === '\r') return '\\r';
  if (char === '\t') return '\\t';
  if (char === ' ' || !NON_PRINTABLE.test(char)) return char;
  if (code < 0x100) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code < 0x10000) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\U${code.toString(16).padStart(8, '0')}`;
}

/** Python's repr() of a str, or of None. */
export function pythonRepr(text: string | null): string {
  if (text === null) return 'None';
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let body = '';
  for (const char of text) body += char === quote ? `\\${quote}` : escapeChar(char);
  return quote + body + quote;
}

/** `ItemTagWithCount(item_tag=ItemTag(tag=..., item_id=...), count=N)` as TextCraft prints it. */
export function itemTagWithCountRepr(tag: string | null, itemId: string | null, count: bigint): string {
  return `ItemTagWithCount(item_tag=ItemTag(tag=${pythonRepr(tag)}, item_id=${pythonRepr(itemId)}), count=${count})`;
}
