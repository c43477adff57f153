// The one outbound URL policy: every URL the service calls on a user's behalf (policy and judge
// endpoints, AgentGym servers, webhook and trainer URLs) passes through checkOutboundUrl, when it
// is stored and again when it is called.
//
// - http and https only, no credentials in the URL;
// - in production (ENVIRONMENT=production) a host that is loopback, private, link-local, a cloud
//   metadata address or unspecified is refused unless the operator's allow-list (OUTBOUND_ALLOW:
//   comma-separated hostnames or IP literals, optionally with :port) names it;
// - anywhere else (local stacks, tests, `wrangler dev`) those hosts are allowed.
//
// Hosts are judged by what the URL says: the WHATWG URL parser already turns 2130706433, 0x7f.1
// and friends into 127.0.0.1. A public DNS name that resolves to a private address is not caught
// here (Workers cannot resolve names); on Cloudflare, Workers cannot reach private networks anyway.

export type AddressClass = 'public' | 'loopback' | 'private' | 'link-local' | 'metadata' | 'unspecified';

export interface OutboundPolicy {
  production: boolean;
  /** Lower-case `host` or `host:port` entries the operator allows despite their address class. */
  allow: readonly string[];
}

export interface OutboundVars {
  ENVIRONMENT?: string;
  OUTBOUND_ALLOW?: string;
}

export function outboundPolicyFrom(vars: OutboundVars): OutboundPolicy {
  const allow = (vars.OUTBOUND_ALLOW ?? '')
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter((entry) => entry.length > 0);
  return { production: vars.ENVIRONMENT === 'production', allow };
}

/** Names that always mean the instance's own metadata service or this machine. */
const METADATA_NAMES = new Set([
  'metadata.google.internal',
  'metadata',
  'instance-data',
  'metadata.azure.internal',
]);

function ipv4Class(a: number, b: number, c: number, d: number): AddressClass {
  if (a === 169 && b === 254 && c === 169 && d === 254) return 'metadata'; // AWS, GCP, Azure, ...
  if (a === 100 && b === 100 && c === 100 && d === 200) return 'metadata'; // Alibaba Cloud
  if (a === 0) return 'unspecified';
  if (a === 127) return 'loopback';
  if (a === 169 && b === 254) return 'link-local';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'private';
  if (a === 100 && b >= 64 && b <= 127) return 'private'; // carrier-grade NAT
  if (a === 198 && (b === 18 || b === 19)) return 'private'; // benchmarking nets
  if (a >= 224) return 'private'; // multicast and reserved
  return 'public';
}

function parseIpv4(host: string): [number, number, number, number] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1).map(Number) as [number, number, number, number];
  return parts.every((p) => p <= 255) ? parts : null;
}

/**
 * Expands an IPv6 literal (no brackets) to 8 groups; null if it is not one. The URL parser has
 * already written any embedded IPv4 part (::ffff:127.0.0.1) in hex, so only hex groups occur.
 */
function parseIpv6(host: string): number[] | null {
  if (!host.includes(':') || !/^[0-9a-f:]+$/.test(host)) return null;
  const halves = host.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string) => (s ? s.split(':') : []);
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  const fill = 8 - left.length - right.length;
  if (halves.length === 2 ? fill < 0 : fill !== 0) return null;
  const all = [...left, ...Array<string>(fill).fill('0'), ...right];
  if (all.some((g) => g.length === 0 || g.length > 4)) return null;
  return all.map((g) => Number.parseInt(g, 16));
}

function ipv6Class(g: number[]): AddressClass {
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, h = 0, i = 0] = g;
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && (f === 0xffff || f === 0)) {
    if (f === 0 && h === 0 && i <= 1) return i === 1 ? 'loopback' : 'unspecified';
    return ipv4Class(h >> 8, h & 0xff, i >> 8, i & 0xff); // IPv4-mapped / -compatible
  }
  if (a === 0xfd00 && b === 0x0ec2 && i === 0x254 && c === 0 && d === 0 && e === 0 && f === 0 && h === 0)
    return 'metadata'; // AWS IMDS over IPv6
  if ((a & 0xfe00) === 0xfc00) return 'private'; // unique local fc00::/7
  if ((a & 0xffc0) === 0xfe80) return 'link-local';
  if ((a & 0xff00) === 0xff00) return 'private'; // multicast
  return 'public';
}

/** What kind of address a URL's hostname names (as the URL parser normalised it). */
export function addressClass(hostname: string): AddressClass {
  const host = hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return 'loopback';
  if (METADATA_NAMES.has(host)) return 'metadata';
  const v4 = parseIpv4(host);
  if (v4) return ipv4Class(...v4);
  const v6 = parseIpv6(host);
  if (v6) return ipv6Class(v6);
  return 'public';
}

export type OutboundVerdict = { ok: true; url: URL } | { ok: false; reason: string };

/** Whether the service may call `raw`; `what` names the URL in the refusal ("webhook url"). */
export function checkOutboundUrl(raw: string, policy: OutboundPolicy, what = 'url'): OutboundVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: `${what} is not an absolute URL` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return { ok: false, reason: `${what} must use http or https, not ${url.protocol.replace(/:$/, '')}` };
  if (url.username || url.password)
    return { ok: false, reason: `${what} must not carry credentials (user:password@)` };
  const kind = addressClass(url.hostname);
  if (kind === 'public' || !policy.production) return { ok: true, url };
  const host = url.hostname.toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  if (policy.allow.includes(host) || policy.allow.includes(`${host}:${port}`)) return { ok: true, url };
  return {
    ok: false,
    reason:
      `${what} points at a ${kind} address (${url.hostname}), which production refuses; ` +
      'an operator can allow it by naming the host in the OUTBOUND_ALLOW var',
  };
}
