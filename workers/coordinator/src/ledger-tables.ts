import type { RunCounters } from '../../../shared/contracts/run-view';
import { all, one } from './sql';

/** The RunLedger's task table, with the columns later versions added created on older ledgers. */
export function createLedgerTables(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS tasks (
    task INTEGER PRIMARY KEY, started INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL,
    nodes INTEGER NOT NULL DEFAULT 0, policy_calls INTEGER NOT NULL DEFAULT 0,
    judge_calls INTEGER NOT NULL DEFAULT 0, prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0, revision INTEGER NOT NULL DEFAULT 0,
    good INTEGER NOT NULL DEFAULT 0, failed_jobs INTEGER NOT NULL DEFAULT 0, reference_judge_calls INTEGER NOT NULL DEFAULT 0, error TEXT,
    updated_at INTEGER NOT NULL)`);
  // A task's `startFrom` history (JSON) until its tree has it (ledger-record.ts): its own table, so
  // the task row that every progress report rewrites stays small.
  sql.exec('CREATE TABLE IF NOT EXISTS start_from (task INTEGER PRIMARY KEY, steps TEXT NOT NULL)');
  const columns = all<{ name: string }>(sql, 'PRAGMA table_info(tasks)').map((c) => c.name);
  // 1 once a final task's counters are in D1 (ledgers made before this column: all copied).
  if (!columns.includes('d1_synced'))
    sql.exec('ALTER TABLE tasks ADD COLUMN d1_synced INTEGER NOT NULL DEFAULT 1');
  // Prompt-fitting tallies and env cost counters, added later: created on ledgers that predate them.
  for (const [name, type] of [
    ['judge_failures', 'INTEGER NOT NULL DEFAULT 0'],
    ['context_retries', 'INTEGER NOT NULL DEFAULT 0'],
    ['tokenizer', 'TEXT'],
    ['env_resets', 'INTEGER NOT NULL DEFAULT 0'],
    ['env_steps', 'INTEGER NOT NULL DEFAULT 0'],
    ['expansions', 'INTEGER NOT NULL DEFAULT 0'],
    ['policy_model', 'TEXT'],
    ['judge_model', 'TEXT'],
  ] as const) {
    if (!columns.includes(name)) sql.exec(`ALTER TABLE tasks ADD COLUMN ${name} ${type}`);
  }
}

/** The distinct non-null values of a task column, comma-joined (SQL). */
const distinctOf = (column: string) =>
  `(SELECT GROUP_CONCAT(${column}) FROM (SELECT DISTINCT ${column} FROM tasks WHERE ${column} IS NOT NULL ORDER BY ${column}))`;

/** The run's counters: the sums over its tasks. */
export function ledgerCounters(sql: SqlStorage): RunCounters {
  const row = one<Record<string, number>>(
    sql,
    `SELECT COUNT(*) AS tasks, SUM(status = 'done') AS tasksDone, SUM(status IN ('failed', 'cancelled')) AS tasksFailed,
     SUM(nodes) AS nodes, SUM(policy_calls) AS policyCalls, SUM(judge_calls) AS judgeCalls,
     SUM(prompt_tokens) AS promptTokens, SUM(completion_tokens) AS completionTokens, SUM(revision) AS revision,
     SUM(good) AS good, SUM(failed_jobs) AS failedJobs, SUM(reference_judge_calls) AS referenceJudgeCalls,
     SUM(judge_failures) AS judgeFailures, SUM(context_retries) AS contextRetries,
     ${distinctOf('tokenizer')} AS tokenizer, ${distinctOf('policy_model')} AS policyModel,
     ${distinctOf('judge_model')} AS judgeModel,
     SUM(env_resets) AS envResets, SUM(env_steps) AS envSteps, SUM(expansions) AS expansions
     FROM tasks`,
  );
  const n = (k: string) => Number(row?.[k] ?? 0);
  const text = (k: string) => (typeof row?.[k] === 'string' ? (row[k] as unknown as string) : null);
  return {
    tasks: n('tasks'),
    tasksDone: n('tasksDone'),
    tasksFailed: n('tasksFailed'),
    nodes: n('nodes'),
    policyCalls: n('policyCalls'),
    judgeCalls: n('judgeCalls'),
    promptTokens: n('promptTokens'),
    completionTokens: n('completionTokens'),
    revision: n('revision'),
    good: n('good'),
    failedJobs: n('failedJobs'),
    referenceJudgeCalls: n('referenceJudgeCalls'),
    judgeFailures: n('judgeFailures'),
    contextRetries: n('contextRetries'),
    tokenizer: text('tokenizer'),
    policyModel: text('policyModel'),
    judgeModel: text('judgeModel'),
    envResets: n('envResets'),
    envSteps: n('envSteps'),
    expansions: n('expansions'),
  };
}
