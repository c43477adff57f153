import { Hono } from 'hono';
import type { GatewayContext } from '../context';
import { dashboardAssets } from './assets.generated';

// The dashboard: one HTML page at `/` and its two assets (built from dashboard/src into
// assets.generated.ts), all served by the gateway itself: no CDN, nothing fetched at run time.
// The page logs in with an API token kept in sessionStorage and calls the /v1 API with it.

const assetBase = `/dashboard/${dashboardAssets.hash}`;

const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>agent-r dashboard</title>
<link rel="icon" href="/dashboard/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${assetBase}/app.css">
<script type="module" src="${assetBase}/app.js"></script>
</head>
<body>
<div id="app"><noscript>The agent-r dashboard needs JavaScript.</noscript></div>
</body>
</html>
`;

const favicon = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1d2430"/><path d="M16 6v8M16 14l-7 8M16 14l7 8" stroke="#b7bec6" stroke-width="2"/><circle cx="16" cy="6" r="3" fill="#2f9e5b"/><circle cx="9" cy="23" r="3.5" fill="#c23b3b"/><circle cx="23" cy="23" r="3.5" fill="#2f9e5b"/></svg>`;

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

export const dashboardApp = new Hono<GatewayContext>();

dashboardApp.get('/', (c) =>
  c.body(page, 200, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-cache',
    ...securityHeaders(c.req.url),
  }),
);

// Asset paths carry the build's hash, so browsers may keep them forever.
dashboardApp.get('/dashboard/:hash/app.js', (c) =>
  c.body(dashboardAssets.js, 200, {
    'content-type': 'text/javascript; charset=utf-8',
    'cache-control': c.req.param('hash') === dashboardAssets.hash ? immutable : 'no-cache',
    'x-content-type-options': 'nosniff',
  }),
);

dashboardApp.get('/dashboard/:hash/app.css', (c) =>
  c.body(dashboardAssets.css, 200, {
    'content-type': 'text/css; charset=utf-8',
    'cache-control': c.req.param('hash') === dashboardAssets.hash ? immutable : 'no-cache',
    'x-content-type-options': 'nosniff',
  }),
);

dashboardApp.get('/dashboard/favicon.svg', (c) =>
  c.body(favicon, 200, {
    'content-type': 'image/svg+xml',
    'cache-control': 'public, max-age=86400',
    'x-content-type-options': 'nosniff',
  }),
);
