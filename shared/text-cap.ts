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

/**
 * The longest completion or observation that still leaves room for the smallest prompt the policy
 * is ever sent: the instructions, the task, and the first and the latest step (a response and an
 * observation each; policy-messages.ts never drops those). That is the context minus the answer's
 * tokens, split in six, at 3 characters per token (below the ~4 of English text, so a text cut to
 * this still fits when the tokenizer is less generous). A longer text would make every expansion
 * below its node fail with "does not fit the model's context" and end the run partial.
 */
export function contextTextCap(context: { contextTokens: number; maxTokens: number }): number {
  const share = Math.floor((context.contextTokens - context.maxTokens) / 6);
  return Math.max(1000, share * 3);
}

/** The cap a run applies: its configured one (default 262144) or the context's, whichever is less. */
export function effectiveTextCap(
  configured: number | undefined,
  context: { contextTokens: number; maxTokens: number },
): number {
  return Math.min(configured ?? DEFAULT_MAX_TEXT_CHARS, contextTextCap(context));
}
