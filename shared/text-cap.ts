/**
 * Size caps on text that comes from outside (a completion, an observation) before it is stored in
 * a tree: a Durable Object's SQLite row holds at most 2 MB ("Maximum string, BLOB or table row
 * size", https://developers.cloudflare.com/durable-objects/platform/limits/), and a node row
 * carries a response and an observation. 256 Ki characters each keeps a node under 1.6 MB even
 * when every character takes 3 UTF-8 bytes.
 */
export const DEFAULT_MAX_TEXT_CHARS = 262_144;

/** The marker that ends a cut text: what was cut and why, for the reader of the tree. */
export function truncationMarker(what: string, length: number, cap: number): string {
  return `\n[agent-r: ${what} truncated: ${length} characters, the cap is ${cap}]`;
}

/** `text` itself when within `cap` characters; else its first `cap` characters and the marker. */
export function capText(text: string, cap: number, what: string): string {
  if (text.length <= cap) return text;
  // Never cut a surrogate pair in half.
  const end = /[\uD800-\uDBFF]/.test(text.charAt(cap - 1)) ? cap - 1 : cap;
  return text.slice(0, end) + truncationMarker(what, text.length, cap);
}
