import type { z } from 'zod';

// JSONL in and out over web streams / async iterables, so R2 bodies, fetch responses and
// Node file streams all work and memory stays at one line.

/** Longest line accepted when reading (characters); a guard against unbounded buffering. */
export const MAX_JSONL_LINE_CHARS = 64 * 1024 * 1024;

type ByteSource =
  | AsyncIterable<Uint8Array | string>
  | Iterable<Uint8Array | string>
  | ReadableStream<Uint8Array>;

async function* chunksOf(source: ByteSource): AsyncGenerator<Uint8Array | string> {
  if (typeof (source as ReadableStream<Uint8Array>).getReader === 'function') {
    const reader = (source as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  }
  yield* source as AsyncIterable<Uint8Array | string>;
}

/** The non-empty lines of a UTF-8 JSONL byte (or text) stream, without their line ends. */
export async function* jsonlLines(
  source: ByteSource,
  maxLineChars = MAX_JSONL_LINE_CHARS,
): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of chunksOf(source)) {
    pending += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    // Scan with an offset and cut once per chunk, so a huge chunk is not re-copied per line.
    let start = 0;
    let newline = pending.indexOf('\n', start);
    while (newline >= 0) {
      const line = pending.slice(start, newline).replace(/\r$/, '');
      if (line.trim()) yield line;
      start = newline + 1;
      newline = pending.indexOf('\n', start);
    }
    pending = pending.slice(start);
    if (pending.length > maxLineChars) throw new Error(`JSONL line longer than ${maxLineChars} characters`);
  }
  pending += decoder.decode();
  if (pending.trim()) yield pending.replace(/\r$/, '');
}

/**
 * Parses each line, validating it with `schema` when given; errors name the line number.
 * `decode` turns each parsed line into the value to validate (e.g. an interned-JSONL reader).
 */
export async function* parseJsonl<T = unknown>(
  source: ByteSource,
  schema?: z.ZodType<T>,
  decode?: (line: unknown) => unknown,
): AsyncGenerator<T> {
  let lineNumber = 0;
  for await (const line of jsonlLines(source)) {
    lineNumber++;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new Error(`JSONL line ${lineNumber} is not JSON: ${(error as Error).message}`);
    }
    try {
      if (decode) value = decode(value);
    } catch (error) {
      throw new Error(`JSONL line ${lineNumber} cannot be decoded: ${(error as Error).message}`);
    }
    if (!schema) {
      yield value as T;
      continue;
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success)
      throw new Error(`JSONL line ${lineNumber} has the wrong shape: ${parsed.error.message}`);
    yield parsed.data;
  }
}

/** Lines are sent in chunks of about this size: one chunk per line is slow through proxies. */
const STREAM_CHUNK_CHARS = 256 * 1024;

/**
 * UTF-8 byte stream of already-terminated lines (e.g. from exportRecords), pulled on demand and
 * batched into chunks of ~256 KiB, so memory stays bounded by one chunk plus one line.
 */
export function jsonlStream(lines: AsyncIterable<string>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const iterator = lines[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk = '';
      while (chunk.length < STREAM_CHUNK_CHARS) {
        const { done, value } = await iterator.next();
        if (done) {
          if (chunk) controller.enqueue(encoder.encode(chunk));
          controller.close();
          return;
        }
        chunk += value;
      }
      controller.enqueue(encoder.encode(chunk));
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}
