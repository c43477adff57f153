CREATE TABLE `hook_signatures` (
	`signature` text PRIMARY KEY NOT NULL,
	`seen_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `hook_signatures_seen_idx` ON `hook_signatures` (`seen_at`);--> statement-breakpoint
CREATE TABLE `live_sessions` (
	`token_id` text NOT NULL,
	`run_id` text NOT NULL,
	`task` integer NOT NULL,
	`opened_at` integer NOT NULL,
	PRIMARY KEY(`token_id`, `run_id`, `task`)
);
--> statement-breakpoint
ALTER TABLE `api_tokens` ADD `scopes` text DEFAULT '["admin"]' NOT NULL;--> statement-breakpoint
ALTER TABLE `api_tokens` ADD `expires_at` integer;