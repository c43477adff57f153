import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runProvenance, worldSha256 } from '../../../shared/contracts/provenance';
import { runSpecSchema } from '../../../shared/contracts/run-spec';
import { getBuiltInWorld } from '../../../shared/worlds';

const facts = {
  version: '1.2.3',
  commit: 'abc',
  policyModel: 'acme/m-1',
  judgeModel: null,
  worldSha256: 'h',
};

describe('run provenance', () => {
  it("hashes a world's content whatever its key order (checked against node:crypto)", () => {
    const world = getBuiltInWorld('default')!;
    const reordered = Object.fromEntries(Object.entries(world).reverse()) as typeof world;
    expect(Object.keys(reordered)).not.toEqual(Object.keys(world));
    expect(worldSha256(reordered)).toBe(worldSha256(world));
    const sorted = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(sorted)
        : v && typeof v === 'object'
          ? Object.fromEntries(
              Object.keys(v)
                .sort()
                .map((k) => [k, sorted((v as Record<string, unknown>)[k])]),
            )
          : v;
    const expected = createHash('sha256')
      .update(JSON.stringify(sorted(world)))
      .digest('hex');
    expect(worldSha256(world)).toBe(expected);
    expect(worldSha256({ ...world, goals: world.goals.slice(1) })).not.toBe(expected);
  });

  it('names the judge only when it is another endpoint, and every sampling setting', () => {
    const spec = runSpecSchema.parse({ policy: 'p', tasks: [0], temperature: 0.7, seed: 5 });
    const same = runProvenance({ ...spec, judge: 'p' }, facts);
    expect(same.judge).toBeUndefined();
    expect(same).toEqual({
      agent_r_version: '1.2.3',
      git_commit: 'abc',
      policy: { endpoint: 'p', model: 'acme/m-1' },
      environment: { env: 'crafting', world: 'default', world_sha256: 'h' },
      sampling: {
        temperature: 0.7,
        max_tokens: 500,
        context_tokens: 8192,
        seed: 5,
        width: spec.width,
        preset: 'agent-r',
        judge_sampling: 'per-node',
      },
    });
    const other = runProvenance({ ...spec, judge: 'j' }, { ...facts, judgeModel: 'acme/judge-2' });
    expect(other.judge).toEqual({ endpoint: 'j', model: 'acme/judge-2' });
    const gym = runSpecSchema.parse({
      policy: 'p',
      tasks: [0],
      env: 'agentgym',
      envServer: 'http://127.0.0.1:9/',
      flavor: 'webshop',
    });
    expect(runProvenance(gym, facts).environment).toEqual({
      env: 'agentgym',
      server: 'http://127.0.0.1:9/',
      flavor: 'webshop',
    });
  });
});
