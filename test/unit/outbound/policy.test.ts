import { describe, expect, it } from 'vitest';
import { addressClass, checkOutboundUrl, outboundPolicyFrom } from '../../../shared/outbound/policy';
import { httpFailureReason } from '../../../shared/outbound/reasons';

const production = outboundPolicyFrom({ ENVIRONMENT: 'production' });
const local = outboundPolicyFrom({ ENVIRONMENT: 'local' });
const hostOf = (url: string) => new URL(url).hostname;

describe('addressClass (on hostnames as the URL parser normalises them)', () => {
  it.each([
    ['http://127.0.0.1/', 'loopback'],
    ['http://127.8.9.10/', 'loopback'],
    ['http://2130706433/', 'loopback'],
    ['http://0x7f.1/', 'loopback'],
    ['http://localhost/', 'loopback'],
    ['http://api.localhost/', 'loopback'],
    ['http://[::1]/', 'loopback'],
    ['http://[::ffff:127.0.0.1]/', 'loopback'],
    ['http://0.0.0.0/', 'unspecified'],
    ['http://[::]/', 'unspecified'],
    ['http://10.0.0.1/', 'private'],
    ['http://172.16.0.1/', 'private'],
    ['http://172.31.255.255/', 'private'],
    ['http://192.168.1.1/', 'private'],
    ['http://100.64.0.1/', 'private'],
    ['http://[fc00::1]/', 'private'],
    ['http://[::ffff:10.0.0.1]/', 'private'],
    ['http://169.254.1.1/', 'link-local'],
    ['http://[fe80::1]/', 'link-local'],
    ['http://169.254.169.254/', 'metadata'],
    ['http://[fd00:ec2::254]/', 'metadata'],
    ['http://metadata.google.internal/', 'metadata'],
    ['http://172.32.0.1/', 'public'],
    ['http://8.8.8.8/', 'public'],
    ['http://[2606:4700::1111]/', 'public'],
    ['https://api.openai.com/', 'public'],
  ])('%s is %s', (url, kind) => {
    expect(addressClass(hostOf(url))).toBe(kind);
  });
});

describe('checkOutboundUrl', () => {
  it('allows only http and https, without credentials', () => {
    expect(checkOutboundUrl('ftp://example.com/x', local)).toMatchObject({ ok: false });
    expect(checkOutboundUrl('file:///etc/passwd', local)).toMatchObject({ ok: false });
    expect(checkOutboundUrl('not a url', local)).toMatchObject({ ok: false });
    expect(checkOutboundUrl('https://user:pw@example.com/', local)).toMatchObject({ ok: false });
    expect(checkOutboundUrl('https://example.com/', production)).toMatchObject({ ok: true });
  });

  it('allows private hosts locally and refuses them in production unless allow-listed (host or host:port)', () => {
    expect(checkOutboundUrl('http://127.0.0.1:8000/v1', local).ok).toBe(true);
    const refused = checkOutboundUrl('http://127.0.0.1:8000/v1', production, 'baseUrl');
    expect(refused).toMatchObject({ ok: false });
    expect(!refused.ok && refused.reason).toMatch(/^baseUrl points at a loopback address/);
    const byHost = outboundPolicyFrom({
      ENVIRONMENT: 'production',
      OUTBOUND_ALLOW: ' GPU.internal , 10.0.0.7 ',
    });
    expect(checkOutboundUrl('http://10.0.0.7:1234/', byHost).ok).toBe(true);
    const byPort = outboundPolicyFrom({ ENVIRONMENT: 'production', OUTBOUND_ALLOW: '10.0.0.7:8000' });
    expect(checkOutboundUrl('http://10.0.0.7:8000/', byPort).ok).toBe(true);
    expect(checkOutboundUrl('http://10.0.0.7:8001/', byPort).ok).toBe(false);
    expect(checkOutboundUrl('http://169.254.169.254/', byPort).ok).toBe(false);
  });
});

describe('httpFailureReason', () => {
  it('says the status and its standard phrase, nothing from the server', () => {
    expect(httpFailureReason(401)).toBe('HTTP 401 Unauthorized');
    expect(httpFailureReason(503)).toBe('HTTP 503 Service Unavailable');
    expect(httpFailureReason(599)).toBe('HTTP 599 server error');
    expect(httpFailureReason(302)).toBe('HTTP 302 redirect (not followed)');
  });
});

describe('envFailureReason', () => {
  it('keeps the call, server, kind and status of an AgentGym failure, never the body the server sent', async () => {
    const { EnvError } = await import('../../../shared/env/agentgym/errors');
    const { envFailureReason } = await import('../../../shared/outbound/reasons');
    const error = new EnvError('the server answered {"error": "token sk-leak-123 rejected"}', {
      kind: 'env-error',
      server: 'http://127.0.0.1:36001',
      endpoint: 'POST /step',
      status: 200,
    });
    const reason = envFailureReason(error);
    expect(reason).toBe('POST /step on http://127.0.0.1:36001: the server reported an error (HTTP 200)');
    expect(reason).not.toContain('sk-leak-123');
  });
});
