import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  computeSignature,
  parseSignatureHeader,
  signatureHeader,
  verifySignature,
} from '../../../shared/webhooks/signing';

const secret = 'whsec_test_0123456789';
const body = '{"event":"run.completed","data":{"runId":"run_1","note":"héllo ✓"}}';
const t = 1_700_000_000;

describe('webhook signatures', () => {
  it('is HMAC-SHA256 over "<t>.<body>" in hex, the same as node:crypto computes', async () => {
    const expected = createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex');
    expect(await computeSignature(secret, t, body)).toBe(expected);
    expect(await signatureHeader(secret, body, t)).toBe(`t=${t},v1=${expected}`);
  });

  it('accepts a fresh, correct signature', async () => {
    const header = await signatureHeader(secret, body, t);
    expect(await verifySignature(secret, body, header, { now: t + 10 })).toEqual({
      ok: true,
      timestamp: t,
      signature: header.split('v1=')[1],
    });
  });

  it('rejects a wrong secret, a changed body and a changed timestamp', async () => {
    const header = await signatureHeader(secret, body, t);
    expect(await verifySignature('other-secret', body, header, { now: t })).toMatchObject({
      ok: false,
      reason: 'mismatch',
    });
    expect(await verifySignature(secret, `${body} `, header, { now: t })).toMatchObject({
      ok: false,
      reason: 'mismatch',
    });
    const shifted = header.replace(`t=${t}`, `t=${t + 1}`);
    expect(await verifySignature(secret, body, shifted, { now: t })).toMatchObject({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('rejects stale and far-future timestamps (tolerance 5 minutes by default)', async () => {
    const header = await signatureHeader(secret, body, t);
    expect(await verifySignature(secret, body, header, { now: t + 300 })).toMatchObject({ ok: true });
    expect(await verifySignature(secret, body, header, { now: t + 301 })).toMatchObject({
      ok: false,
      reason: 'stale',
    });
    expect(await verifySignature(secret, body, header, { now: t - 301 })).toMatchObject({
      ok: false,
      reason: 'stale',
    });
    expect(
      await verifySignature(secret, body, header, { now: t + 1000, toleranceSeconds: 2000 }),
    ).toMatchObject({
      ok: true,
    });
  });

  it('rejects missing and malformed headers without throwing', async () => {
    for (const header of [undefined, null, '']) {
      expect(await verifySignature(secret, body, header, { now: t })).toMatchObject({
        ok: false,
        reason: 'missing',
      });
    }
    for (const header of [
      'garbage',
      't=abc,v1=00',
      `v1=${'0'.repeat(64)}`,
      `t=${t}`,
      `t=${t},t=${t},v1=00`,
      'x'.repeat(5000),
    ]) {
      expect(await verifySignature(secret, body, header, { now: t })).toMatchObject({
        ok: false,
        reason: 'malformed',
      });
    }
    // Well-formed but not hex / wrong length: a mismatch, not a crash.
    for (const v1 of ['zz', 'g'.repeat(64), '0'.repeat(63), '0'.repeat(128)]) {
      expect(await verifySignature(secret, body, `t=${t},v1=${v1}`, { now: t })).toMatchObject({
        ok: false,
        reason: 'mismatch',
      });
    }
  });

  it('accepts any one of several v1 signatures (secret rotation) and ignores unknown schemes', async () => {
    const good = await computeSignature(secret, t, body);
    const old = await computeSignature('old-secret', t, body);
    const header = `t=${t},v0=whatever,v1=${old},v1=${good}`;
    expect(await verifySignature(secret, body, header, { now: t })).toMatchObject({ ok: true });
    expect(parseSignatureHeader(header)).toEqual({ timestamp: t, signatures: [old, good] });
    expect(await verifySignature(secret, body, `t=${t},v1=${good.toUpperCase()}`, { now: t })).toMatchObject({
      ok: true,
    });
  });

  it('signs raw bytes the same as their UTF-8 text, and checks bytes that are not UTF-8', async () => {
    const bytes = new TextEncoder().encode(body);
    expect(await computeSignature(secret, t, bytes)).toBe(await computeSignature(secret, t, body));
    const invalidUtf8 = new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]);
    const header = await signatureHeader(secret, invalidUtf8, t);
    expect(await verifySignature(secret, invalidUtf8, header, { now: t })).toMatchObject({ ok: true });
    // Decoding would replace the bad bytes and change what was signed.
    const decoded = new TextDecoder().decode(invalidUtf8);
    expect(await verifySignature(secret, decoded, header, { now: t })).toMatchObject({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('refuses to sign with an empty secret', async () => {
    await expect(signatureHeader('', body, t)).rejects.toThrow(/empty/);
  });
});
