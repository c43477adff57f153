-- The record index: one b-tree entry per record instead of three (see shared/db/schema.ts).
-- WITHOUT ROWID and the copy of the old rows are written by hand (drizzle-kit emits neither).
CREATE TABLE `record_chunks` (
	`run_id` text NOT NULL,
	`task` integer NOT NULL,
	`chunk` integer NOT NULL,
	`ids` text NOT NULL,
	PRIMARY KEY(`run_id`, `task`, `chunk`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `record_index` (
	`run_id` text NOT NULL,
	`id` text NOT NULL,
	`task` integer NOT NULL,
	`kind` text NOT NULL,
	`line` integer NOT NULL,
	`first_error_step` integer,
	`reward_good` real,
	`reward_bad` real,
	`turns` integer NOT NULL,
	`chars` integer NOT NULL,
	PRIMARY KEY(`run_id`, `id`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `record_index` (`run_id`, `id`, `task`, `kind`, `line`, `first_error_step`, `reward_good`, `reward_bad`, `turns`, `chars`)
	SELECT `run_id`, `id`, `task`, `kind`, `line`, `first_error_step`, `reward_good`, `reward_bad`, `turns`, `chars` FROM `trajectories`;
--> statement-breakpoint
-- A task's ids, 10,000 to a chunk (under 200 KB of JSON), revision and good in separate chunks.
INSERT INTO `record_chunks` (`run_id`, `task`, `chunk`, `ids`)
	SELECT `run_id`, `task`, (CASE `kind` WHEN 'revision' THEN 0 ELSE 1 END) + 2 * (`line` / 10000), json_group_array(`id`)
	FROM `trajectories` GROUP BY `run_id`, `task`, `kind`, `line` / 10000;
--> statement-breakpoint
DROP TABLE `trajectories`;
--> statement-breakpoint
-- The old table's columns, for SQL written against it (r2_key is the task's record file: every row had it).
CREATE VIEW `trajectories` AS SELECT `id`, `run_id`, `task`, `kind`, `first_error_step`, `reward_good`, `reward_bad`, `turns`, `chars`,
	'runs/' || `run_id` || '/tasks/' || printf('%06d', `task`) || '/' || `kind` || '.jsonl' AS `r2_key`, `line`
	FROM `record_index`;
--> statement-breakpoint
-- Deleting a task's chunk rows deletes the index rows they name (one statement replaces a task).
CREATE TRIGGER `record_chunks_cascade` AFTER DELETE ON `record_chunks` BEGIN
	DELETE FROM `record_index` WHERE `run_id` = old.`run_id` AND `id` IN (SELECT `value` FROM json_each(old.`ids`));
END;
