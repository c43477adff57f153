CREATE TABLE `api_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`token_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer,
	`last_used_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_hash_idx` ON `api_tokens` (`token_hash`);--> statement-breakpoint
CREATE TABLE `datasets` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`format` text NOT NULL,
	`run_ids` text NOT NULL,
	`manifest` text NOT NULL,
	`status` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `endpoints` (
	`name` text PRIMARY KEY NOT NULL,
	`base_url` text NOT NULL,
	`model` text NOT NULL,
	`api_key_ciphertext` text,
	`config` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `env_servers` (
	`name` text PRIMARY KEY NOT NULL,
	`base_url` text NOT NULL,
	`flavor` text NOT NULL,
	`config` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `evals` (
	`id` text PRIMARY KEY NOT NULL,
	`iteration_id` text,
	`status` text NOT NULL,
	`spec` text NOT NULL,
	`metrics` text,
	`created_at` integer NOT NULL,
	`completed_at` integer
);
--> statement-breakpoint
CREATE TABLE `inbound_hooks` (
	`idempotency_key` text PRIMARY KEY NOT NULL,
	`run_id` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `iterations` (
	`id` text PRIMARY KEY NOT NULL,
	`loop_id` text NOT NULL,
	`index` integer NOT NULL,
	`parent_id` text,
	`status` text NOT NULL,
	`policy_endpoint` text NOT NULL,
	`alpha` real NOT NULL,
	`run_id` text,
	`dataset_id` text,
	`eval_id` text,
	`config` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `run_tasks` (
	`run_id` text NOT NULL,
	`task` integer NOT NULL,
	`status` text NOT NULL,
	`nodes` integer DEFAULT 0 NOT NULL,
	`policy_calls` integer DEFAULT 0 NOT NULL,
	`judge_calls` integer DEFAULT 0 NOT NULL,
	`revision_records` integer DEFAULT 0 NOT NULL,
	`good_records` integer DEFAULT 0 NOT NULL,
	`failed_jobs` integer DEFAULT 0 NOT NULL,
	`error` text,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`run_id`, `task`)
);
--> statement-breakpoint
CREATE TABLE `runs` (
	`id` text PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`spec` text NOT NULL,
	`task_count` integer NOT NULL,
	`iteration_id` text,
	`error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`completed_at` integer
);
--> statement-breakpoint
CREATE INDEX `runs_created_idx` ON `runs` (`created_at`);--> statement-breakpoint
CREATE TABLE `trajectories` (
	`id` text PRIMARY KEY NOT NULL,
	`run_id` text NOT NULL,
	`task` integer NOT NULL,
	`kind` text NOT NULL,
	`first_error_step` integer,
	`reward_good` real,
	`reward_bad` real,
	`turns` integer NOT NULL,
	`chars` integer NOT NULL,
	`r2_key` text NOT NULL,
	`line` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `trajectories_run_idx` ON `trajectories` (`run_id`,`task`,`kind`);--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`webhook_id` text NOT NULL,
	`event` text NOT NULL,
	`payload` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_status_code` integer,
	`last_error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `deliveries_webhook_idx` ON `webhook_deliveries` (`webhook_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `webhooks` (
	`id` text PRIMARY KEY NOT NULL,
	`url` text NOT NULL,
	`events` text NOT NULL,
	`secret_ciphertext` text NOT NULL,
	`active` integer DEFAULT true NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `worlds` (
	`name` text PRIMARY KEY NOT NULL,
	`recipes` integer NOT NULL,
	`goals` integer NOT NULL,
	`base_items` integer NOT NULL,
	`r2_key` text NOT NULL,
	`created_at` integer NOT NULL
);
