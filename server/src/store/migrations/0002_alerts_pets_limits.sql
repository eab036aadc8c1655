CREATE TABLE `alerts` (
	`id` text PRIMARY KEY NOT NULL,
	`feeder_id` text,
	`kind` text NOT NULL,
	`key` text NOT NULL,
	`message` text NOT NULL,
	`occurrence_id` text,
	`created_at` integer NOT NULL,
	`acknowledged_at` integer,
	FOREIGN KEY (`feeder_id`) REFERENCES `feeders`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `alerts_key_unique` ON `alerts` (`key`);--> statement-breakpoint
CREATE INDEX `alerts_time_idx` ON `alerts` (`created_at`);--> statement-breakpoint
CREATE TABLE `one_off_meals` (
	`id` text NOT NULL,
	`feeder_id` text NOT NULL,
	`local_date` text NOT NULL,
	`time` text NOT NULL,
	`portions` integer NOT NULL,
	`label` text DEFAULT '' NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	PRIMARY KEY(`feeder_id`, `id`),
	FOREIGN KEY (`feeder_id`) REFERENCES `feeders`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `pets` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`daily_grams_target` real,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
ALTER TABLE `feeders` ADD `daily_max_portions` integer DEFAULT 40 NOT NULL;--> statement-breakpoint
ALTER TABLE `feeders` ADD `min_feed_interval_seconds` integer DEFAULT 60 NOT NULL;--> statement-breakpoint
ALTER TABLE `feeders` ADD `pet_id` text REFERENCES pets(id) ON DELETE SET NULL;--> statement-breakpoint
ALTER TABLE `feeders` ADD `paused_from` text;--> statement-breakpoint
ALTER TABLE `feeders` ADD `paused_until` text;--> statement-breakpoint
ALTER TABLE `feeders` ADD `schedule_version` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `feeders` ADD `device_schedule_version` integer;--> statement-breakpoint
ALTER TABLE `occurrences` ADD `checked` integer DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `occurrences_unchecked_idx` ON `occurrences` (`due_at`) WHERE checked = 0;--> statement-breakpoint
-- Occurrences decided before alerts existed are history, not something to alert about now.
UPDATE `occurrences` SET `checked` = 1;