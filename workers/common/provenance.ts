import type { World } from '../../shared/env/crafting/world';
import { type RunProvenance, runProvenance, worldSha256 } from '../../shared/contracts/provenance';
import type { RunSpec } from '../../shared/contracts/run-spec';
import { type CoreBindings, runLedgerStub } from './env';
import { loadWorld } from './worlds';

const hashes = new WeakMap<World, string>();

/**
 * A run's provenance (shared/contracts/provenance.ts) as the workers know it: the version and
 * commit the stack was started with (AGENT_R_VERSION, AGENT_R_COMMIT), the model ids the servers
 * reported for the run (or one task), the world's content hash.
 */
export async function provenanceOf(
  env: CoreBindings,
  spec: RunSpec,
  models: { policy?: string | null; judge?: string | null },
): Promise<RunProvenance> {
  let hash: string | null = null;
  if (spec.env === 'crafting') {
    const world = await loadWorld(env, spec.world).catch(() => null);
    if (world) {
      hash = hashes.get(world) ?? worldSha256(world);
      hashes.set(world, hash);
    }
  }
  return runProvenance(spec, {
    version: env.AGENT_R_VERSION || null,
    commit: env.AGENT_R_COMMIT || null,
    policyModel: models.policy ?? null,
    judgeModel: models.judge ?? null,
    worldSha256: hash,
  });
}

/** A run's provenance with the model ids its ledger collected from the tasks' completions. */
export async function provenanceOfRun(
  env: CoreBindings,
  runId: string,
  spec: RunSpec,
): Promise<RunProvenance> {
  const counters = (await runLedgerStub(env, runId).status())?.counters;
  return provenanceOf(env, spec, { policy: counters?.policyModel, judge: counters?.judgeModel });
}
