import { type Context, Hono } from 'hono';
import type { GatewayContext } from '../context';
import { errorResponse } from '../errors';

// The dashboard: one HTML page at `/` and its assets, built from dashboard/src into dashboard/dist
// (`npm run build:dashboard`) and bound as Workers Static Assets (`env.ASSETS`, wrangler.toml's
// `[assets]`). All served by the gateway itself: no CDN, nothing fetched at run time.
// `run_worker_first = true` sends every request through this worker first, so the page gets its
// security headers here and the asset directory's other files are not public.
// The page logs in with an API token kept in sessionStorage and calls the /v1 API with it.

/** Paths inside the assets directory (dashboard/build.ts writes them). */
const files = {
  page: '/',
  js: '/dashboard/app.js',
  css: '/dashboard/app.css',
  favicon: '/dashboard/favicon.svg',
  build: '/dashboard/build.json',
} as const;

/** Same-origin only: scripts, styles and API calls (including the live WebSocket). */
function securityHeaders(url: string): Record<string, string> {
  const { host, protocol } = new URL(url);
  const ws = `${protocol === 'https:' ? 'wss' : 'ws'}://${host}`;
  return {
    'content-security-policy': [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data: blob:",
      `connect-src 'self' ${ws}`,
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join('; '),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  };
}

const immutable = 'public, max-age=31536000, immutable';

type DashboardContext = Context<GatewayContext>;

/** One file of the assets directory, or null when it is not there (the dashboard was not built). */
async function asset(c: DashboardContext, path: string): Promise<Response | null> {
  // GET even for HEAD: hono drops the body of a HEAD answer itself.
  const response = await c.env.ASSETS.fetch(new URL(path, c.req.url), { method: 'GET' });
  if (response.ok) return response;
  await response.body?.cancel();
  return null;
}

/** The current build's hash (read per request: `wrangler dev` may rebuild under a running worker). */
async function buildHash(c: DashboardContext): Promise<string | null> {
  const response = await asset(c, files.build);
  const build = response ? ((await response.json()) as { hash?: unknown }) : null;
  return typeof build?.hash === 'string' ? build.hash : null;
}

/** Serves one asset with the given headers; a missing one is a 503 that says how to build it. */
async function serve(c: DashboardContext, path: string, headers: Record<string, string>) {
  const response = await asset(c, path);
  if (!response)
    return errorResponse(
      c,
      503,
      'dashboard_not_built',
      `the dashboard's ${path} is not in the assets directory: run npm run build:dashboard`,
    );
  return c.body(await response.arrayBuffer(), 200, headers);
}

export const dashboardApp = new Hono<GatewayContext>();

dashboardApp.get('/', (c) =>
  serve(c, files.page, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-cache',
    ...securityHeaders(c.req.url),
  }),
);

// Asset paths carry the build's hash, so browsers may keep them forever. Another hash (a page of
// another build) still gets the current file, just not cached.
for (const [name, type] of [
  ['js', 'text/javascript; charset=utf-8'],
  ['css', 'text/css; charset=utf-8'],
] as const) {
  dashboardApp.get(`/dashboard/:hash/app.${name}`, async (c) =>
    serve(c, files[name], {
      'content-type': type,
      'cache-control': c.req.param('hash') === (await buildHash(c)) ? immutable : 'no-cache',
      'x-content-type-options': 'nosniff',
    }),
  );
}

dashboardApp.get('/dashboard/favicon.svg', (c) =>
  serve(c, files.favicon, {
    'content-type': 'image/svg+xml',
    'cache-control': 'public, max-age=86400',
    'x-content-type-options': 'nosniff',
  }),
);
