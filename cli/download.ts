import { createWriteStream } from 'node:fs';

/** Up to this much may wait in memory for the disk; reading the network is never paused for less. */
const WRITE_BUFFER_BYTES = 64 * 1024 * 1024;

/**
 * Streams a response body to a file with bounded memory. The socket is read as fast as it comes:
 * pausing the read for every disk write was measured to slow wrangler dev's streamed responses
 * ~50x and even to end them early, so writes are buffered (up to 64 MiB) instead.
 */
export async function saveResponseBody(
  response: Response,
  path: string,
): Promise<{ bytes: number; lines: number }> {
  const out = createWriteStream(path, { highWaterMark: WRITE_BUFFER_BYTES });
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  let bytes = 0;
  let lines = 0;
  try {
    if (response.body) {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.byteLength;
        for (const byte of value) if (byte === 10) lines++;
        if (!out.write(value))
          await Promise.race([new Promise<void>((r) => out.once('drain', () => r())), failed]);
      }
    }
  } finally {
    await Promise.race([new Promise<void>((r) => out.end(() => r())), failed]);
  }
  return { bytes, lines };
}
