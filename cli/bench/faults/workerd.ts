import { spawn } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { localBin, projectRoot } from '../../project';
import { type DurabilityResult, durabilityResultSchema } from './result';

/**
 * The durability scenarios only workerd can inject: D1 failing for seconds inside the RunLedger and
 * queue.send failing once inside a TaskTree (test/integration/durability.test.ts swaps those
 * bindings inside the live Durable Object), and a splice held after its last check while its run is
 * cancelled (cancel-final.test.ts wraps the splicer's R2 binding in the test worker; a `wrangler dev` stack has no such hook, and a hook in
 * the product could be switched on in a deployed worker). The bench runs that test file in a child
 * vitest (real workerd: real D1, R2, Queues and Durable Objects) and reads the results the tests
 * measured (R2's records vs the ledger's counts vs D1's index) from AGENT_R_FAULT_RESULTS.
 */
export const workerdScenarios = {
  d1_down_during_report_and_completion: 'D1 failing for seconds during reportTask',
  queue_send_fails_once_in_dispatch: 'queue.send failing once during a dispatch',
  // A splice held right after its last check while the run is cancelled (cancel is final).
  cancel_while_splice_writes: 'a splice held after its last check',
} as const;

export type WorkerdScenario = keyof typeof workerdScenarios;

/** The test file each scenario is in (default: durability.test.ts). */
const scenarioFiles: Partial<Record<WorkerdScenario, string>> = {
  cancel_while_splice_writes: 'test/integration/cancel-final.test.ts',
};

export interface WorkerdOutcome {
  results: DurabilityResult[];
  /** Scenarios that reported nothing (their test failed before measuring), with why. */
  missing: { scenario: WorkerdScenario; reason: string }[];
  exitCode: number | null;
  wallS: number;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A file cut short (the child killed at the timeout) is no result, not a crash of the bench. */
function parseJson<T>(text: string): T | null {
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

/** vitest's JSON report (jest's shape): one entry per test, with its title and outcome. */
interface JsonReport {
  testResults?: { assertionResults?: { title: string; status: string; failureMessages?: string[] }[] }[];
}

/** Each scenario's test outcome: passed, failed (with the first lines of why), or not run. */
async function testOutcomes(reportFile: string, names: WorkerdScenario[]) {
  const report = parseJson<JsonReport>(await readFile(reportFile, 'utf8').catch(() => '')) ?? {};
  const tests = (report.testResults ?? []).flatMap((r) => r.assertionResults ?? []);
  return new Map(
    names.map((name) => {
      const test = tests.find((t) => t.title.startsWith(workerdScenarios[name]));
      const why = (test?.failureMessages ?? []).join(' ').split('\n').slice(0, 3).join(' ').slice(0, 500);
      return [name, { status: test?.status ?? 'not run', why }] as const;
    }),
  );
}

export async function runWorkerdScenarios(options: {
  workDir: string;
  timeoutMs: number;
  only?: WorkerdScenario[];
  log?: (line: string) => void;
}): Promise<WorkerdOutcome> {
  const names = options.only ?? (Object.keys(workerdScenarios) as WorkerdScenario[]);
  await mkdir(options.workDir, { recursive: true });
  const file = join(options.workDir, 'workerd-results.jsonl');
  const reportFile = join(options.workDir, 'workerd-vitest.json');
  await rm(file, { force: true });
  await rm(reportFile, { force: true });
  const pattern = names.map((n) => escapeRegExp(workerdScenarios[n])).join('|');
  const files = [...new Set(names.map((n) => scenarioFiles[n] ?? 'test/integration/durability.test.ts'))];
  const args = ['run', '--project', 'integration', ...files, '-t', pattern];
  const reporters = ['--reporter=default', '--reporter=json', `--outputFile.json=${reportFile}`];
  options.log?.(`durability (workerd): vitest ${args.join(' ')}`);
  const started = performance.now();
  let output = '';
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(localBin('vitest'), [...args, ...reporters], {
      cwd: projectRoot,
      env: { ...process.env, AGENT_R_FAULT_RESULTS: file, NO_COLOR: '1', CI: 'true' },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d: Buffer) => {
      output = (output + d.toString()).slice(-40_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      output += `\nFAIL: no result within ${options.timeoutMs / 1000} s; stopped`;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  const results: DurabilityResult[] = [];
  for (const line of (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean)) {
    const parsed = durabilityResultSchema.safeParse(parseJson(line));
    if (parsed.success && (names as string[]).includes(parsed.data.scenario)) results.push(parsed.data);
  }
  const outcomes = await testOutcomes(reportFile, names);
  const tail = output.trim().split('\n').slice(-3).join(' | ').slice(0, 500);
  const missing = names
    .filter((n) => !results.some((r) => r.scenario === n))
    .map((scenario) => {
      const { status, why } = outcomes.get(scenario)!;
      return {
        scenario,
        reason: `test ${status}${why ? `: ${why}` : ''} (vitest exit ${exitCode}: ${tail})`,
      };
    });
  // A test that measured and then failed an assertion keeps its figures, marked as failed.
  for (const r of results) r.facts.test = outcomes.get(r.scenario as WorkerdScenario)!.status;
  return { results, missing, exitCode, wallS: (performance.now() - started) / 1000 };
}
