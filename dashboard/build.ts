// Builds the dashboard (dashboard/src: TypeScript, CSS, the page and its icon) into dashboard/dist/,
// the gateway's Workers Static Assets directory (`[assets]` in wrangler.toml). The directory is not
// committed: the local stack (cli/stack.ts), `npm run deploy` and the integration project build it
// before wrangler or miniflare reads it. A build rewrites only the files whose content changed, so
// a running `wrangler dev` reloads only when the dashboard did.
//   npm run build:dashboard    (npx tsx dashboard/build.ts) write dashboard/dist/
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
/** The assets directory; wrangler.toml's `assets.directory` names it. */
export const dashboardDist = join(here, 'dist');

/** Paths inside dashboardDist. The gateway serves them at the URLs in its dashboard route. */
export const dashboardFiles = {
  page: 'index.html',
  js: 'dashboard/app.js',
  css: 'dashboard/app.css',
  favicon: 'dashboard/favicon.svg',
  /** `{ "hash": ... }`: the build's hash, which the page puts in its asset URLs. */
  build: 'dashboard/build.json',
} as const;

async function bundle(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [join(here, 'src', entry)],
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
    legalComments: 'none',
    charset: 'utf8',
    logLevel: 'silent',
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error(`esbuild produced nothing for ${entry}`);
  return file.text;
}

/** Every file of the assets directory (path inside it -> text), built fresh from dashboard/src. */
export async function buildDashboard(): Promise<Map<string, string>> {
  const [js, css] = await Promise.all([bundle('main.ts'), bundle('styles.css')]);
  const hash = createHash('sha256').update(js).update('\0').update(css).digest('hex').slice(0, 12);
  const page = readFileSync(join(here, 'src', 'index.html'), 'utf8').replaceAll('%HASH%', hash);
  return new Map([
    [dashboardFiles.page, page],
    [dashboardFiles.js, js],
    [dashboardFiles.css, css],
    [dashboardFiles.favicon, readFileSync(join(here, 'src', 'favicon.svg'), 'utf8')],
    [dashboardFiles.build, `${JSON.stringify({ hash })}\n`],
  ]);
}

function readDist(path: string): string | null {
  try {
    return readFileSync(join(dashboardDist, path), 'utf8');
  } catch {
    return null;
  }
}

/** The paths whose content in dashboardDist differs from `files` (or that are missing). */
export function staleDashboardFiles(files: Map<string, string>): string[] {
  return [...files].filter(([path, text]) => readDist(path) !== text).map(([path]) => path);
}

/**
 * Writes the files that differ into dashboardDist; returns their paths. Each is written beside its
 * target and renamed over it, so a server reading the directory (or a second build running at the
 * same time) never sees half a file.
 */
export function writeDashboard(files: Map<string, string>): string[] {
  const stale = staleDashboardFiles(files);
  for (const path of stale) {
    const target = join(dashboardDist, path);
    mkdirSync(dirname(target), { recursive: true });
    const temp = `${target}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(temp, files.get(path)!);
    renameSync(temp, target);
  }
  return stale;
}

/** Builds the dashboard into dashboardDist (what changed); returns the paths written. */
export async function buildDashboardAssets(): Promise<string[]> {
  return writeDashboard(await buildDashboard());
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const written = await buildDashboardAssets();
  console.log(
    written.length > 0 ? `wrote ${written.join(', ')} in ${dashboardDist}` : 'dashboard/dist is up to date',
  );
}
