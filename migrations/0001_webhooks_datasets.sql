ALTER TABLE `datasets` ADD `error` text;--> statement-breakpoint
ALTER TABLE `inbound_hooks` ADD `request_sha256` text;--> statement-breakpoint
ALTER TABLE `webhook_deliveries` ADD `next_attempt_at` integer;