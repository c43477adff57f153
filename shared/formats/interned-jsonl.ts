/**
 * JSONL in which values repeated across the lines of one file are written once.
 *
 * A task's training records repeat the same texts many times over (every record holds three
 * overlapping conversations built from the same tree nodes): written plainly, 40 crafting tasks
 * make ~260 MB, with interning ~30 MB. Each line is `[defs, value]`: `defs` lists the values first
 * used on that line, and both `defs` and `value` refer to defined values by reference strings.
 * A reader keeps the table of one file, in order, so the file still streams line by line.
 *
 * Encoding of strings inside a line: "\u0000" + base-36 index is a reference; a literal string
 * that starts with "\u0000" gets one more "\u0000" in front. Lines that are plain JSON objects
 * (files written before interning) decode as themselves.
 */

/** Strings shorter than this stay inline (a reference costs ~10 characters). */
const MIN_INTERNED_STRING = 24;
const MARK = '\u0000';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface InternedJsonlWriter {
  /** One line (with its newline) for `value`, plain JSON data. */
  line(value: unknown): string;
}

export function createInternedJsonlWriter(): InternedJsonlWriter {
  const strings = new Map<string, string>();
  // Flat objects by their fields: a trie of field name -> encoded value -> field name -> ...,
  // ending in END -> reference. Its keys are values (no text is built to look one up), and a
  // Map tells `true` from "true" and 1 from "1".
  const objects: Trie = new Map();
  let defined = 0;
  let defs: Json[] = [];

  const define = (encoded: Json): string => {
    defs.push(encoded);
    return MARK + (defined++).toString(36);
  };

  const encode = (value: unknown): Json | undefined => {
    if (typeof value === 'string') {
      if (value.length < MIN_INTERNED_STRING) return escapeMark(value);
      let ref = strings.get(value);
      if (ref === undefined) {
        ref = define(escapeMark(value));
        strings.set(value, ref);
      }
      return ref;
    }
    if (value === null || typeof value === 'boolean') return value;
    if (typeof value === 'number') return Number.isFinite(value) ? value : null;
    if (Array.isArray(value)) return value.map((item) => encode(item) ?? null);
    if (typeof value === 'object') {
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
        return encode(JSON.parse(JSON.stringify(value)));
      }
      const out: { [key: string]: Json } = {};
      let node: Trie | null = objects;
      for (const field of Object.keys(value)) {
        const encoded = encode((value as Record<string, unknown>)[field]);
        if (encoded === undefined) continue;
        out[field] = encoded;
        if (node === null) continue;
        // Only objects of scalars (a chat message, a judged step) are shared whole.
        node = encoded !== null && typeof encoded === 'object' ? null : branch(branch(node, field), encoded);
      }
      if (node === null) return out;
      let ref = node.get(END) as string | undefined;
      if (ref === undefined) {
        ref = define(out);
        node.set(END, ref);
      }
      return ref;
    }
    return undefined; // functions, symbols, undefined: left out, as JSON.stringify does
  };

  return {
    line(value) {
      defs = [];
      const encoded = encode(value) ?? null;
      return `${JSON.stringify([defs, encoded])}\n`;
    },
  };
}

type Trie = Map<unknown, unknown>;
const END = Symbol('end');

function branch(trie: Trie, key: unknown): Trie {
  let next = trie.get(key) as Trie | undefined;
  if (next === undefined) {
    next = new Map();
    trie.set(key, next);
  }
  return next;
}

/** The interned JSONL text of `values`, one line each. */
export function toInternedJsonl(values: readonly unknown[]): string {
  const writer = createInternedJsonlWriter();
  return values.map((value) => writer.line(value)).join('');
}

function escapeMark(text: string): string {
  return text.startsWith(MARK) ? MARK + text : text;
}

export interface InternedJsonlReader {
  /** The value of one parsed line; lines must come in file order. */
  value(line: unknown): unknown;
}

export function createInternedJsonlReader(): InternedJsonlReader {
  const table: unknown[] = [];

  const decode = (value: unknown): unknown => {
    if (typeof value === 'string') {
      if (!value.startsWith(MARK)) return value;
      if (value.startsWith(MARK, 1)) return value.slice(1);
      const position = Number.parseInt(value.slice(1), 36);
      if (!(position < table.length)) throw new Error(`interned JSONL: unknown reference ${position}`);
      const shared = table[position];
      // A fresh copy of a shared object, so that changing one record never changes another.
      return shared !== null && typeof shared === 'object' ? { ...shared } : shared;
    }
    if (Array.isArray(value)) return value.map(decode);
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) out[key] = decode(item);
      return out;
    }
    return value;
  };

  return {
    value(line) {
      if (!Array.isArray(line)) return line; // a plain line
      if (line.length !== 2 || !Array.isArray(line[0]))
        throw new Error('interned JSONL: a line must be [definitions, value]');
      for (const def of line[0]) table.push(decode(def));
      return decode(line[1]);
    },
  };
}
