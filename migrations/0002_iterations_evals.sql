CREATE TABLE `loops` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`status` text NOT NULL,
	`config` text NOT NULL,
	`trainer_webhook_id` text,
	`public_url` text NOT NULL,
	`final_endpoint` text,
	`final_eval_id` text,
	`error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`completed_at` integer
);
--> statement-breakpoint
ALTER TABLE `evals` ADD `run_id` text;--> statement-breakpoint
ALTER TABLE `evals` ADD `recovery_source_run_id` text;--> statement-breakpoint
ALTER TABLE `evals` ADD `recovery_plan` text;--> statement-breakpoint
ALTER TABLE `evals` ADD `recovery_run_id` text;--> statement-breakpoint
ALTER TABLE `evals` ADD `error` text;--> statement-breakpoint
CREATE INDEX `evals_iteration_idx` ON `evals` (`iteration_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `evals_run_idx` ON `evals` (`run_id`);--> statement-breakpoint
CREATE INDEX `evals_recovery_run_idx` ON `evals` (`recovery_run_id`);--> statement-breakpoint
CREATE INDEX `evals_recovery_source_idx` ON `evals` (`recovery_source_run_id`);--> statement-breakpoint
ALTER TABLE `iterations` ADD `result_endpoint` text;--> statement-breakpoint
ALTER TABLE `iterations` ADD `trainer_delivery_id` text;--> statement-breakpoint
ALTER TABLE `iterations` ADD `error` text;--> statement-breakpoint
ALTER TABLE `iterations` ADD `completed_at` integer;--> statement-breakpoint
CREATE UNIQUE INDEX `iterations_loop_index_idx` ON `iterations` (`loop_id`,`index`);--> statement-breakpoint
CREATE INDEX `iterations_run_idx` ON `iterations` (`run_id`);