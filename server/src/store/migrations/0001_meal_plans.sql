CREATE TABLE `meals` (
	`id` text NOT NULL,
	`feeder_id` text NOT NULL,
	`time` text NOT NULL,
	`days` text NOT NULL,
	`portions` integer NOT NULL,
	`label` text DEFAULT '' NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`position` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`feeder_id`, `id`),
	FOREIGN KEY (`feeder_id`) REFERENCES `feeders`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `occurrences` (
	`id` text PRIMARY KEY NOT NULL,
	`feeder_id` text NOT NULL,
	`meal_id` text NOT NULL,
	`local_date` text NOT NULL,
	`due_at` integer NOT NULL,
	`status` text NOT NULL,
	`feed_id` text,
	`decided_at` integer NOT NULL,
	FOREIGN KEY (`feeder_id`) REFERENCES `feeders`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `occurrences_feeder_due_idx` ON `occurrences` (`feeder_id`,`due_at`);--> statement-breakpoint
CREATE TABLE `server_state` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
ALTER TABLE `feeders` ADD `timezone` text;--> statement-breakpoint
ALTER TABLE `feeders` ADD `grace_minutes` integer DEFAULT 15 NOT NULL;