import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../cli/main';

// `agent-r export` and `agent-r token` against a small fake of the HTTP API on 127.0.0.1.

const TOKEN = 'ar_cli_test_token';
const RUN = 'run_cli1';
const LINES = Array.from({ length: 120 }, (_, i) =>
  JSON.stringify({
    conversations: [
      { from: 'human', value: `task ${i} ✓` },
      { from: 'gpt', value: `craft ${i}` },
    ],
  }),
);
const DATASET = `${LINES.join('\n')}\n`;

const runManifest = {
  run_id: RUN,
  status: 'completed',
  config: { env: 'crafting', world: 'default', tasks: [0, 1] },
  counts: {
    tasks: 2,
    nodes: 30,
    revision: 70,
    good: 50,
    policy_calls: 10,
    judge_calls: 5,
    failed_jobs: 0,
    tasks_failed: 0,
    prompt_tokens: 0,
    completion_tokens: 0,
    reference_judge_calls: 9,
  },
  model: 'sim',
  thresholds: { alpha: 0.5, beta: 0.2, transition: 'model' },
  seed: 0,
  created_at: new Date(0).toISOString(),
  completed_at: new Date(1000).toISOString(),
  failures: [],
};

const tokens: { id: string; name: string; createdAt: number; revokedAt: number | null; lastUsedAt: null }[] =
  [];
const seen: string[] = [];
let server: Server;
let apiUrl: string;
let dir: string;

function envelope(res: import('node:http').ServerResponse, status: number, code: string, message: string) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { code, message } }));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agent-r-cli-'));
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    seen.push(`${req.method} ${url.pathname}${url.search}`);
    if (req.headers.authorization !== `Bearer ${TOKEN}`)
      return envelope(res, 401, 'unauthorized', 'bad token');
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (req.method === 'GET' && url.pathname === `/v1/runs/${RUN}/manifest`) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify(runManifest));
      }
      if (req.method === 'GET' && url.pathname === `/v1/runs/${RUN}/dataset`) {
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        // In several chunks, split mid-line.
        const third = Math.floor(DATASET.length / 3);
        res.write(DATASET.slice(0, third));
        res.write(DATASET.slice(third, 2 * third));
        return res.end(DATASET.slice(2 * third));
      }
      if (url.pathname.startsWith('/v1/runs/')) return envelope(res, 404, 'not_found', 'run not found');
      if (req.method === 'POST' && url.pathname === '/v1/tokens') {
        const { name } = JSON.parse(body) as { name: string };
        const row = {
          id: `tok_${tokens.length + 1}`,
          name,
          createdAt: Date.now(),
          revokedAt: null,
          lastUsedAt: null,
        };
        tokens.push(row);
        res.writeHead(201, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ ...row, token: `ar_secret_${row.id}` }));
      }
      if (req.method === 'GET' && url.pathname === '/v1/tokens') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ tokens }));
      }
      const revoke = /^\/v1\/tokens\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'DELETE' && revoke) {
        const row = tokens.find((t) => t.id === decodeURIComponent(revoke[1] as string));
        if (!row) return envelope(res, 404, 'not_found', 'token not found');
        row.revokedAt ??= Date.now();
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify(row));
      }
      envelope(res, 404, 'not_found', 'no route');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const code = await main(args, { stdout, stderr, stdin: new PassThrough(), cwd: dir });
  return { code, stdout: out, stderr: err };
}

describe('agent-r export', () => {
  it('streams the dataset to FILE, writes FILE.manifest.json and registers sharegpt in dataset_info.json', async () => {
    const out = join(dir, 'data', 'agent-r.sharegpt.jsonl');
    await cli([
      'export',
      RUN,
      '--format',
      'openai',
      '--out',
      join(dir, 'data', 'x.jsonl'),
      '--api',
      apiUrl,
      '--token',
      TOKEN,
    ]);
    await writeFile(
      join(dir, 'data', 'dataset_info.json'),
      JSON.stringify({ alpaca_en: { file_name: 'alpaca.json' } }),
    );
    const result = await cli([
      'export',
      RUN,
      '--format',
      'sharegpt',
      '--out',
      out,
      '--api',
      `${apiUrl}/`,
      '--token',
      TOKEN,
      '--json',
    ]);
    expect(result.code).toBe(0);
    expect(seen).toContain(`GET /v1/runs/${RUN}/dataset?format=sharegpt&kind=all`);

    const written = await readFile(out, 'utf8');
    expect(written).toBe(DATASET);
    const manifest = JSON.parse(await readFile(`${out}.manifest.json`, 'utf8'));
    expect(JSON.parse(result.stdout.trim().split('\n').at(-1) as string)).toEqual(manifest);
    expect(manifest).toMatchObject({
      run_ids: [RUN],
      model: 'sim',
      envs: ['crafting:default'],
      format: 'sharegpt',
      thresholds: { alpha: 0.5, beta: 0.2 },
      counts: { records: 120, revision: 70, good: 50, general: 0 },
    });
    expect(manifest.files).toEqual([
      {
        name: 'agent-r.sharegpt.jsonl',
        split: 'all',
        records: 120,
        bytes: Buffer.byteLength(DATASET),
        sha256: createHash('sha256').update(DATASET).digest('hex'),
      },
    ]);
    expect(manifest.warnings.join(' ')).toMatch(/mask_history/);

    const info = JSON.parse(await readFile(join(dir, 'data', 'dataset_info.json'), 'utf8'));
    expect(info.alpaca_en).toEqual({ file_name: 'alpaca.json' });
    expect(info.agent_r_sharegpt).toMatchObject({
      file_name: 'agent-r.sharegpt.jsonl',
      formatting: 'sharegpt',
    });
  });

  it('passes --kind through and counts only that kind', async () => {
    const out = join(dir, 'good.openai.jsonl');
    const result = await cli([
      'export',
      RUN,
      '--format',
      'openai',
      '--kind',
      'good',
      '--out',
      out,
      '--api',
      apiUrl,
      '--token',
      TOKEN,
    ]);
    expect(result.code).toBe(0);
    expect(seen).toContain(`GET /v1/runs/${RUN}/dataset?format=openai&kind=good`);
    const manifest = JSON.parse(await readFile(`${out}.manifest.json`, 'utf8'));
    expect(manifest.counts).toMatchObject({ revision: 0, good: 50 });
    expect(manifest.warnings).toEqual([]);
  });

  it('fails with exit code 1 for an unknown run and leaves no file behind', async () => {
    const out = join(dir, 'missing.jsonl');
    const result = await cli([
      'export',
      'run_nope',
      '--format',
      'openai',
      '--out',
      out,
      '--api',
      apiUrl,
      '--token',
      TOKEN,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/run run_nope not found/);
    await expect(readFile(out)).rejects.toThrow();
    const denied = await cli([
      'export',
      RUN,
      '--format',
      'openai',
      '--out',
      out,
      '--api',
      apiUrl,
      '--token',
      'wrong',
    ]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/401/);
  });

  it('exits 2 on bad usage, before touching the network', async () => {
    const saved = process.env.AGENT_R_TOKEN;
    delete process.env.AGENT_R_TOKEN;
    try {
      const before = seen.length;
      for (const args of [
        ['export', '--format', 'openai', '--out', 'x'],
        ['export', RUN, '--out', 'x', '--api', apiUrl, '--token', TOKEN],
        ['export', RUN, '--format', 'csv', '--out', 'x', '--api', apiUrl, '--token', TOKEN],
        ['export', RUN, '--format', 'openai', '--api', apiUrl, '--token', TOKEN],
        [
          'export',
          RUN,
          '--format',
          'openai',
          '--out',
          'x',
          '--kind',
          'bad',
          '--api',
          apiUrl,
          '--token',
          TOKEN,
        ],
        ['export', RUN, '--format', 'openai', '--out', 'x', '--api', apiUrl],
        ['export', RUN, '--format', 'openai', '--out', 'x', '--bogus'],
      ]) {
        const result = await cli(args);
        expect(result.code, args.join(' ')).toBe(2);
        expect(result.stderr).toMatch(/see agent-r export --help/);
      }
      expect(seen.length).toBe(before);
    } finally {
      if (saved !== undefined) process.env.AGENT_R_TOKEN = saved;
    }
    const help = await cli(['export', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--format F/);
  });
});

describe('agent-r token', () => {
  const api = () => ['--api', apiUrl, '--token', TOKEN];

  it('creates (token alone on stdout), lists and revokes', async () => {
    const created = await cli(['token', 'create', 'ci', ...api()]);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^ar_secret_tok_\d+\n$/);
    expect(created.stderr).toMatch(/shown once/);
    const id = created.stdout.trim().replace('ar_secret_', '');

    const json = await cli(['token', 'create', 'other', ...api(), '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ name: 'other', token: expect.stringMatching(/^ar_/) });

    const list = await cli(['token', 'list', ...api()]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${id}\\s+ci\\s+.*active`));
    expect(list.stdout).not.toMatch(/ar_secret/);

    const revoked = await cli(['token', 'revoke', id, ...api()]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(new RegExp(`revoked ${id} "ci"`));
    const listJson = JSON.parse((await cli(['token', 'list', ...api(), '--json'])).stdout) as {
      tokens: { id: string; revokedAt: number | null }[];
    };
    expect(listJson.tokens.find((t) => t.id === id)?.revokedAt).toBeGreaterThan(0);
  });

  it('exits 1 for an unknown id and 2 on bad usage', async () => {
    const unknown = await cli(['token', 'revoke', 'tok_nope', ...api()]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no token with id tok_nope/);
    for (const args of [
      ['token'],
      ['token', 'make', 'x', ...api()],
      ['token', 'create', ...api()],
      ['token', 'create', 'a', 'b', ...api()],
      ['token', 'revoke', ...api()],
      ['token', 'list', 'extra', ...api()],
      ['token', 'create', ' ', ...api()],
    ]) {
      expect((await cli(args)).code, args.join(' ')).toBe(2);
    }
  });
});
