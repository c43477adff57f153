import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

// D1 tables (drizzle-orm). Timestamps are epoch milliseconds; JSON columns hold zod-validated shapes.

/**
 * One build: a RunSpec (config) over a set of tasks. `spec` is the spec without `startFrom`; a
 * run with `startFrom` (up to megabytes: over D1's 2 MB value limit) has it once in R2
 * (`runStartFromKey`), `start_from_bytes` long. Rows written before that have it inline (null).
 */
export const runs = sqliteTable(
  'runs',
  {
    id: text('id').primaryKey(),
    status: text('status', {
      enum: ['queued', 'running', 'completed', 'partial', 'failed', 'cancelled'],
    }).notNull(),
    spec: text('spec', { mode: 'json' }).notNull(),
    startFromBytes: integer('start_from_bytes'),
    taskCount: integer('task_count').notNull(),
    iterationId: text('iteration_id'),
    error: text('error'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    completedAt: integer('completed_at'),
  },
  (t) => [index('runs_created_idx').on(t.createdAt)],
);

/** One task of a run (a TaskTree Durable Object); counters are copied here when the task ends. */
export const runTasks = sqliteTable(
  'run_tasks',
  {
    runId: text('run_id').notNull(),
    task: integer('task').notNull(),
    status: text('status', {
      enum: ['pending', 'searching', 'critiquing', 'splicing', 'done', 'failed'],
    }).notNull(),
    nodes: integer('nodes').notNull().default(0),
    policyCalls: integer('policy_calls').notNull().default(0),
    judgeCalls: integer('judge_calls').notNull().default(0),
    revisionRecords: integer('revision_records').notNull().default(0),
    goodRecords: integer('good_records').notNull().default(0),
    failedJobs: integer('failed_jobs').notNull().default(0),
    error: text('error'),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.task] })],
);

/**
 * The index of the revision and good records stored as JSONL in R2: one row per record, keyed by
 * (run, record id). The record sits on line `line` of its task's file (`taskRecordsKey(run, task,
 * kind)`). WITHOUT ROWID in SQL (migrations/0005): the primary key is the table's only b-tree, so
 * inserting a record writes one D1 row (the `trajectories` table before it wrote three: the table,
 * its id index and a (run, task, kind) index). A VIEW `trajectories` keeps the old columns.
 */
export const recordIndex = sqliteTable(
  'record_index',
  {
    runId: text('run_id').notNull(),
    id: text('id').notNull(),
    task: integer('task').notNull(),
    kind: text('kind', { enum: ['revision', 'good'] }).notNull(),
    line: integer('line').notNull(),
    firstErrorStep: integer('first_error_step'),
    rewardGood: real('reward_good'),
    rewardBad: real('reward_bad'),
    turns: integer('turns').notNull(),
    chars: integer('chars').notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.id] })],
);

/**
 * Which record ids one task wrote to `record_index`: one row per insert chunk (a JSON array of ids),
 * so replacing or removing a task's rows, and listing one task's, finds them without a per-record
 * (run, task) index. WITHOUT ROWID in SQL.
 */
export const recordChunks = sqliteTable(
  'record_chunks',
  {
    runId: text('run_id').notNull(),
    task: integer('task').notNull(),
    chunk: integer('chunk').notNull(),
    ids: text('ids', { mode: 'json' }).$type<string[]>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.task, t.chunk] })],
);

/** An exported or assembled dataset (files in R2 with a manifest). */
export const datasets = sqliteTable('datasets', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  format: text('format').notNull(),
  runIds: text('run_ids', { mode: 'json' }).notNull(),
  manifest: text('manifest', { mode: 'json' }).notNull(),
  status: text('status', { enum: ['building', 'ready', 'failed'] }).notNull(),
  createdAt: integer('created_at').notNull(),
  /** Why assembly failed (status 'failed'). */
  error: text('error'),
});

/** OpenAI-compatible inference endpoints; the API key is stored encrypted and never returned. */
export const endpoints = sqliteTable('endpoints', {
  name: text('name').primaryKey(),
  baseUrl: text('base_url').notNull(),
  model: text('model').notNull(),
  apiKeyCiphertext: text('api_key_ciphertext'),
  config: text('config', { mode: 'json' }).notNull(),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/** AgentGym environment servers. */
export const envServers = sqliteTable('env_servers', {
  name: text('name').primaryKey(),
  baseUrl: text('base_url').notNull(),
  flavor: text('flavor', { enum: ['textcraft', 'webshop', 'sciworld'] }).notNull(),
  config: text('config', { mode: 'json' }).notNull(),
  createdAt: integer('created_at').notNull(),
});

/** Crafting worlds (the recipe set is in R2 under worlds/<name>.json). */
export const worlds = sqliteTable('worlds', {
  name: text('name').primaryKey(),
  recipes: integer('recipes').notNull(),
  goals: integer('goals').notNull(),
  baseItems: integer('base_items').notNull(),
  r2Key: text('r2_key').notNull(),
  createdAt: integer('created_at').notNull(),
});

/**
 * An iterate-train-evaluate loop (agent-r.md s.6): its settings, the trainer it calls (an outbound
 * webhook row, events [], whose sealed secret also verifies the trainer's callbacks) and its end.
 */
export const loops = sqliteTable('loops', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  status: text('status', { enum: ['running', 'waiting', 'completed', 'failed'] }).notNull(),
  config: text('config', { mode: 'json' }).notNull(),
  trainerWebhookId: text('trainer_webhook_id'),
  /** Base URL put in front of the links handed to the trainer (download, callback). */
  publicUrl: text('public_url').notNull(),
  /** The model the last iteration's training produced (an endpoint name). */
  finalEndpoint: text('final_endpoint'),
  finalEvalId: text('final_eval_id'),
  error: text('error'),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
  completedAt: integer('completed_at'),
});

/** The build -> train -> evaluate loop: one row per iteration, chained by parentId. */
export const iterations = sqliteTable(
  'iterations',
  {
    id: text('id').primaryKey(),
    loopId: text('loop_id').notNull(),
    index: integer('index').notNull(),
    parentId: text('parent_id'),
    status: text('status').notNull(),
    policyEndpoint: text('policy_endpoint').notNull(),
    alpha: real('alpha').notNull(),
    runId: text('run_id'),
    datasetId: text('dataset_id'),
    evalId: text('eval_id'),
    config: text('config', { mode: 'json' }).notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    /** The endpoint registered by the trainer's callback (the next iteration's policy). */
    resultEndpoint: text('result_endpoint'),
    trainerDeliveryId: text('trainer_delivery_id'),
    error: text('error'),
    completedAt: integer('completed_at'),
  },
  (t) => [
    uniqueIndex('iterations_loop_index_idx').on(t.loopId, t.index),
    index('iterations_run_idx').on(t.runId),
  ],
);

/** Evaluation runs of a policy on a split, with their metrics. */
export const evals = sqliteTable(
  'evals',
  {
    id: text('id').primaryKey(),
    iterationId: text('iteration_id'),
    status: text('status').notNull(),
    spec: text('spec', { mode: 'json' }).notNull(),
    metrics: text('metrics', { mode: 'json' }),
    createdAt: integer('created_at').notNull(),
    completedAt: integer('completed_at'),
    /** The greedy run over the eval's tasks. */
    runId: text('run_id'),
    /** Where the recovery test's failed trajectories come from (this eval's run unless given). */
    recoverySourceRunId: text('recovery_source_run_id'),
    /** The cut points chosen once the source run finished ({task, cutStep}[]). */
    recoveryPlan: text('recovery_plan', { mode: 'json' }),
    recoveryRunId: text('recovery_run_id'),
    error: text('error'),
  },
  (t) => [
    index('evals_iteration_idx').on(t.iterationId, t.createdAt),
    index('evals_run_idx').on(t.runId),
    index('evals_recovery_run_idx').on(t.recoveryRunId),
    index('evals_recovery_source_idx').on(t.recoverySourceRunId),
  ],
);

/** Outbound webhook subscriptions; the signing secret is stored encrypted. */
export const webhooks = sqliteTable('webhooks', {
  id: text('id').primaryKey(),
  url: text('url').notNull(),
  events: text('events', { mode: 'json' }).notNull(),
  secretCiphertext: text('secret_ciphertext').notNull(),
  active: integer('active', { mode: 'boolean' }).notNull().default(true),
  createdAt: integer('created_at').notNull(),
});

/** Every delivery attempt of an outbound webhook. */
export const webhookDeliveries = sqliteTable(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    webhookId: text('webhook_id').notNull(),
    event: text('event').notNull(),
    payload: text('payload', { mode: 'json' }).notNull(),
    status: text('status', { enum: ['pending', 'delivered', 'failed'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    /** When the queue will try again (pending deliveries after a failed attempt). */
    nextAttemptAt: integer('next_attempt_at'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('deliveries_webhook_idx').on(t.webhookId, t.createdAt)],
);

/** Inbound webhook idempotency keys: a redelivered webhook never starts a second build. */
export const inboundHooks = sqliteTable('inbound_hooks', {
  idempotencyKey: text('idempotency_key').primaryKey(),
  runId: text('run_id'),
  /** SHA-256 of the first delivery's body: a reused key with a different body is refused. */
  requestSha256: text('request_sha256'),
  createdAt: integer('created_at').notNull(),
});

/**
 * Signatures of accepted build hooks, kept for the signature tolerance window: the same signed
 * request sent again within the window is refused as a replay (rows older than that are pruned).
 */
export const hookSignatures = sqliteTable(
  'hook_signatures',
  {
    signature: text('signature').primaryKey(),
    seenAt: integer('seen_at').notNull(),
  },
  (t) => [index('hook_signatures_seen_idx').on(t.seenAt)],
);

/**
 * API tokens: only the SHA-256 hash is stored. `scopes` (JSON string[]: read, build, admin) limit
 * what a token may do; tokens from before scopes existed keep full (admin) rights.
 */
export const apiTokens = sqliteTable(
  'api_tokens',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull(),
    createdAt: integer('created_at').notNull(),
    revokedAt: integer('revoked_at'),
    lastUsedAt: integer('last_used_at'),
    scopes: text('scopes', { mode: 'json' }).notNull().default(['admin']),
    /** After this (epoch ms) the token is refused; null: no expiry. */
    expiresAt: integer('expires_at'),
  },
  (t) => [uniqueIndex('api_tokens_hash_idx').on(t.tokenHash)],
);

/** Open dashboard live sockets per token, so revoking a token can close them at once. */
export const liveSessions = sqliteTable(
  'live_sessions',
  {
    tokenId: text('token_id').notNull(),
    runId: text('run_id').notNull(),
    task: integer('task').notNull(),
    openedAt: integer('opened_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tokenId, t.runId, t.task] })],
);
