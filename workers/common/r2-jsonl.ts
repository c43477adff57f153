import { type JsonlSummary, measureJsonl } from '../../shared/formats';

// Writing a JSONL file of any size to R2 while holding at most one part of it in memory.

/** R2 wants parts of one size (all but the last) and at least 5 MiB each. */
export const R2_PART_BYTES = 8 * 1024 * 1024;

const httpMetadata = { contentType: 'application/x-ndjson; charset=utf-8' };

/**
 * Writes JSONL lines to R2 without holding the file: a plain put when it fits one part, else a
 * multipart upload in equal parts. Returns the file's line count, size and SHA-256.
 */
export async function putJsonl(
  bucket: R2Bucket,
  key: string,
  lines: AsyncIterable<string>,
  partBytes = R2_PART_BYTES,
): Promise<JsonlSummary> {
  const measured = measureJsonl(lines);
  const encoder = new TextEncoder();
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let upload: R2MultipartUpload | null = null;
  const parts: R2UploadedPart[] = [];
  const take = (size: number): Uint8Array => {
    const out = new Uint8Array(size);
    let offset = 0;
    while (offset < size) {
      const head = pending[0] as Uint8Array;
      const n = Math.min(head.length, size - offset);
      out.set(head.subarray(0, n), offset);
      offset += n;
      if (n === head.length) pending.shift();
      else pending[0] = head.subarray(n);
    }
    pendingBytes -= size;
    return out;
  };
  try {
    for await (const line of measured.lines) {
      const bytes = encoder.encode(line);
      pending.push(bytes);
      pendingBytes += bytes.length;
      while (pendingBytes >= partBytes) {
        upload ??= await bucket.createMultipartUpload(key, { httpMetadata });
        parts.push(await upload.uploadPart(parts.length + 1, take(partBytes)));
      }
    }
    if (!upload) {
      await bucket.put(key, take(pendingBytes), { httpMetadata });
    } else {
      if (pendingBytes > 0) parts.push(await upload.uploadPart(parts.length + 1, take(pendingBytes)));
      await upload.complete(parts);
    }
  } catch (error) {
    await upload?.abort().catch(() => {});
    throw error;
  } finally {
    pending = [];
  }
  return measured.summary();
}

/** Every key under `prefix`, page by page (at most `maxPages` pages of R2's 1000). */
export async function* listR2Objects(
  bucket: R2Bucket,
  prefix: string,
  maxPages: number,
): AsyncGenerator<R2Object[]> {
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const listed = await bucket.list({ prefix, ...(cursor ? { cursor } : {}) });
    yield listed.objects;
    if (!listed.truncated) return;
    cursor = listed.cursor;
  }
}
