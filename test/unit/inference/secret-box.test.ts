import { describe, expect, it } from 'vitest';
import { decryptSecret, encryptSecret, SecretBoxError } from '../../../shared/crypto/secret-box';

describe('secret box', () => {
  it('round-trips and uses a fresh salt and IV each time', async () => {
    const a = await encryptSecret('sk-live-123', 'server passphrase');
    const b = await encryptSecret('sk-live-123', 'server passphrase');
    expect(a).not.toBe(b);
    expect(a).not.toContain('sk-live');
    expect(await decryptSecret(a, 'server passphrase')).toBe('sk-live-123');
    expect(await decryptSecret(b, 'server passphrase')).toBe('sk-live-123');
  });

  it('handles unicode and empty plaintext', async () => {
    for (const text of ['', 'clé ✓ 鍵']) {
      expect(await decryptSecret(await encryptSecret(text, 'p'), 'p')).toBe(text);
    }
  });

  it('refuses a wrong passphrase, a wrong context and altered data', async () => {
    const sealed = await encryptSecret('key', 'right', { context: 'endpoint:sim' });
    expect(await decryptSecret(sealed, 'right', { context: 'endpoint:sim' })).toBe('key');
    await expect(decryptSecret(sealed, 'wrong', { context: 'endpoint:sim' })).rejects.toBeInstanceOf(
      SecretBoxError,
    );
    await expect(decryptSecret(sealed, 'right', { context: 'endpoint:other' })).rejects.toBeInstanceOf(
      SecretBoxError,
    );
    const bytes = atob(sealed);
    const flipped = btoa(bytes.slice(0, -1) + String.fromCharCode(bytes.charCodeAt(bytes.length - 1) ^ 1));
    await expect(decryptSecret(flipped, 'right', { context: 'endpoint:sim' })).rejects.toBeInstanceOf(
      SecretBoxError,
    );
    await expect(decryptSecret('not base64!', 'right')).rejects.toBeInstanceOf(SecretBoxError);
    await expect(encryptSecret('key', '')).rejects.toBeInstanceOf(SecretBoxError);
  });
});
