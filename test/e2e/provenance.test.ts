import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type SimPolicyServer, startSimPolicy } from '../../cli/sim-policy/server';
import { removeHome, runCli } from '../helpers/cli-process';

// Provenance end to end: `agent-r build` against a loopback OpenAI-compatible server (sim-policy)
// that answers every completion with a model id other than the one requested (as OpenAI answers
// an alias with its dated snapshot). That id, not the endpoint's name, must be in every record,
// the run manifest and a dataset manifest built from the run, next to the endpoint's name, the
// agent-r version and commit, the world's hash and the sampling settings.

const REPORTED = 'acme/policy-7b-2026-12-01';

describe('provenance: the model id the server reports, in records and manifests', () => {
  let home = '';
  let server: SimPolicyServer | null = null;
  afterAll(async () => {
    await server?.close();
    if (home) await removeHome(home);
  });

  it('build and dataset create name the served model, the endpoint, version, commit and world', async () => {
    home = await mkdtemp(join(tmpdir(), 'agent-r-provenance-'));
    server = await startSimPolicy({ model: 'policy-alias', resolvedModel: REPORTED });
    const env = { AGENT_R_HOME: home };
    const out = join(home, 'out');
    const built = await runCli(
      [
        'build',
        '--policy',
        `${server.url}/v1`,
        '--model',
        'policy-alias',
        '--tasks',
        '0-1',
        '--iterations',
        '2',
        '--width',
        '2',
        '--depth',
        '4',
        '--seed',
        '7',
        '--out',
        out,
      ],
      { cwd: home, env, timeoutMs: 400_000 },
    );
    expect(built.code, built.stderr).toBe(0);
    expect(built.stderr).toContain(`model ${REPORTED} (as the server reported it; requested policy-alias)`);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as {
      run_id: string;
      model: string;
      provenance: Record<string, unknown> & {
        agent_r_version: string;
        git_commit: string;
        policy: { endpoint: string };
      };
    };
    expect(manifest.model).toBe(REPORTED);
    const endpoint = manifest.provenance.policy.endpoint;
    expect(endpoint).toMatch(/^url-/);
    expect(manifest.provenance).toMatchObject({
      agent_r_version: expect.any(String),
      git_commit: expect.stringMatching(/^[0-9a-f]{40}/),
      policy: {
        endpoint,
        model: REPORTED,
        requested_model: 'policy-alias',
        base_url: `${server.url}/v1`,
        served_models: ['policy-alias', REPORTED],
      },
      environment: {
        env: 'crafting',
        world: 'default',
        world_sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
      sampling: { temperature: 1, max_tokens: 500, seed: 7, width: 2, preset: 'agent-r' },
    });
    expect(manifest.provenance.judge).toBeUndefined(); // the judge is the policy
    const records: Record<string, unknown>[] = [];
    for (const kind of ['revision', 'good']) {
      const text = await readFile(join(out, `${kind}.native.jsonl`), 'utf8');
      for (const line of text.split('\n').filter(Boolean)) records.push(JSON.parse(line));
    }
    expect(records.length).toBeGreaterThan(0);
    for (const record of records) {
      expect(record.model).toBe(REPORTED);
      expect(record.provenance).toEqual({
        agent_r_version: manifest.provenance.agent_r_version,
        git_commit: manifest.provenance.git_commit,
        policy: { endpoint, model: REPORTED },
        environment: manifest.provenance.environment,
        sampling: manifest.provenance.sampling,
      });
    }

    // A dataset from the run lists the run's provenance and names the served model.
    const datasetDir = join(home, 'dataset');
    const created = await runCli(
      ['dataset', 'create', '--runs', manifest.run_id, '--split', '0.5', '--out', datasetDir, '--json'],
      { cwd: home, env, timeoutMs: 300_000 },
    );
    expect(created.code, created.stderr).toBe(0);
    const dataset = JSON.parse(await readFile(join(datasetDir, 'manifest.json'), 'utf8')) as {
      model: string | null;
      provenance: { runs: Record<string, { policy: { model: string } }> };
    };
    expect(dataset.model).toBe(REPORTED);
    expect(dataset.provenance.runs[manifest.run_id]).toMatchObject({
      policy: { endpoint, model: REPORTED },
      environment: manifest.provenance.environment,
    });
  });
});
