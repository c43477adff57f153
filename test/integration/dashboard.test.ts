import { env as workerEnv } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { api } from './helpers';

// The dashboard as Workers Static Assets: vitest.config.ts builds dashboard/src into dashboard/dist
// (the `[assets]` directory of wrangler.toml) and hands the same build to the test worker as
// TEST_DASHBOARD_FILES. The worker reads the files through env.ASSETS, workerd's real asset
// service over that directory. The pool calls the worker's fetch handler without the asset router
// in front (exports.default.fetch does not expose assets: cloudflare/workers-sdk discussion #14973),
// so `run_worker_first` is covered against `wrangler dev` by test/e2e/dashboard.test.ts.

const built = (workerEnv as unknown as { TEST_DASHBOARD_FILES: Record<string, string> }).TEST_DASHBOARD_FILES;
const hash = (JSON.parse(built['dashboard/build.json']!) as { hash: string }).hash;

const get = (path: string) => api(path, { token: null });

describe('dashboard served from the static assets', () => {
  it('serves the built page at / with its security headers, linking this build', async () => {
    const response = await get('/');
    expect(response.status).toBe(200);
    const page = await response.text();
    expect(page).toBe(built['index.html']);
    expect(page).toContain(`/dashboard/${hash}/app.js`);
    expect(page).toContain(`/dashboard/${hash}/app.css`);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self' ws://agent-r.test");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('serves the built script and styles under the build hash, cached for good', async () => {
    for (const [name, type] of [
      ['js', 'text/javascript; charset=utf-8'],
      ['css', 'text/css; charset=utf-8'],
    ]) {
      const response = await get(`/dashboard/${hash}/app.${name}`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe(built[`dashboard/app.${name}`]);
      expect(response.headers.get('content-type')).toBe(type);
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('gives a page of another build the current files, but not to keep', async () => {
    const response = await get('/dashboard/0123456789ab/app.js');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(built['dashboard/app.js']);
    expect(response.headers.get('cache-control')).toBe('no-cache');
  });

  it('serves the icon', async () => {
    const response = await get('/dashboard/favicon.svg');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/svg+xml');
    expect(await response.text()).toBe(built['dashboard/favicon.svg']);
  });

  it("keeps the directory's own paths private and the API behind its bearer token", async () => {
    for (const path of ['/index.html', '/dashboard/app.js', '/dashboard/build.json', '/dashboard/']) {
      const response = await get(path);
      expect(response.status, path).toBe(404);
      expect(await response.json(), path).toMatchObject({ error: { code: 'not_found' } });
    }
    const unauthorized = await get('/v1/runs');
    expect(unauthorized.status).toBe(401);
    expect(await unauthorized.json()).toMatchObject({ error: { code: 'unauthorized' } });
  });

  it('answers 503 for the dashboard too when production secrets are missing', async () => {
    const response = await api('/', { token: null, vars: { ENVIRONMENT: 'production', ADMIN_TOKEN: '' } });
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: { code: 'not_configured' } });
  });
});
