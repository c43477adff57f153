import type { RunManifest } from '../../../shared/contracts/manifest';
import type { RunSpecInput } from '../../../shared/contracts/run-spec';
import { submitRun, waitForRun } from '../build-run';
import type { Log, StackHandle } from './stack';

export interface EnvServer {
  url: string;
  close(): Promise<void>;
}

export interface DeadEnvOptions {
  handle: StackHandle;
  startEnvServer: () => Promise<EnvServer>;
  /** The AgentGym run (env, flavor and envServer are filled in). */
  spec: RunSpecInput;
  /** A crafting run beside it, which must not be affected. */
  controlSpec: RunSpecInput;
  /** Close the env server once the AgentGym run has this many nodes. */
  closeAfterNodes: number;
  timeoutMs: number;
  log?: Log;
}

export interface DeadEnvResult {
  scenario: 'dead-env-server';
  closedAtNodes: number;
  status: string;
  failedJobs: number;
  failures: { task: number; reason: string }[];
  /** Why each failed job failed (from the tasks' progress), de-duplicated. */
  jobFailureReasons: string[];
  controlStatus: string;
  controlFailedJobs: number;
  controlFailures: number;
  wallS: number;
}

export async function runDeadEnvServer(options: DeadEnvOptions): Promise<DeadEnvResult> {
  const { handle, log } = options;
  const server = await options.startEnvServer();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await server.close();
  };
  try {
    const started = performance.now();
    const runId = await submitRun(handle.api, {
      ...options.spec,
      env: 'agentgym',
      flavor: 'textcraft',
      envServer: server.url,
    });
    const controlId = await submitRun(handle.api, options.controlSpec);
    let closedAtNodes = -1;
    const view = await waitForRun(handle.api, runId, {
      timeoutMs: options.timeoutMs,
      onPoll: async (v) => {
        const nodes = v.counters?.nodes ?? 0;
        if (!closed && nodes >= options.closeAfterNodes) {
          closedAtNodes = nodes;
          log?.(`dead env server: closing the AgentGym server at ${nodes} nodes`);
          await close();
        }
      },
    });
    const wallS = (performance.now() - started) / 1000;
    const control = await waitForRun(handle.api, controlId, { timeoutMs: options.timeoutMs });
    const manifest = await handle.api.json<RunManifest>('GET', `/v1/runs/${runId}/manifest`);
    const controlManifest = await handle.api.json<RunManifest>('GET', `/v1/runs/${controlId}/manifest`);
    const reasons = new Set<string>();
    for (const task of options.spec.tasks) {
      const progress = await handle.api
        .json<{ failures?: { reason: string | null }[] }>('GET', `/v1/runs/${runId}/tasks/${task}`)
        .catch(() => ({ failures: [] }));
      for (const failure of progress.failures ?? []) if (failure.reason) reasons.add(failure.reason);
    }
    return {
      scenario: 'dead-env-server',
      closedAtNodes,
      status: view.status,
      failedJobs: manifest.counts.failed_jobs,
      failures: manifest.failures,
      jobFailureReasons: [...reasons],
      controlStatus: control.status,
      controlFailedJobs: controlManifest.counts.failed_jobs,
      controlFailures: controlManifest.failures.length,
      wallS,
    };
  } finally {
    await close();
  }
}

export function deadEnvSummary(r: DeadEnvResult): string {
  const reason = r.failures[0]?.reason ?? '(none)';
  return (
    `FAULTS dead env server: closed at ${r.closedAtNodes} nodes, run ${r.status}, failed jobs ${r.failedJobs}, ` +
    `manifest failures ${r.failures.length} (first: ${reason.slice(0, 160)}), ` +
    `job failure reasons: ${r.jobFailureReasons.map((x) => x.slice(0, 120)).join(' | ') || '(none)'}, control run ${r.controlStatus} ` +
    `with ${r.controlFailedJobs} failed jobs`
  );
}
