CREATE TABLE `api_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`name` text NOT NULL,
	`token_hash` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`expires_at` integer,
	`last_used_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_token_hash_unique` ON `api_tokens` (`token_hash`);--> statement-breakpoint
CREATE INDEX `api_tokens_user_idx` ON `api_tokens` (`user_id`);--> statement-breakpoint
CREATE TABLE `feeders` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`profile` text NOT NULL,
	`secret_hash` text NOT NULL,
	`max_portions` integer DEFAULT 10 NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`model` text,
	`firmware` text,
	`protocol_version` integer,
	`capabilities` text,
	`portion_grams` real,
	`last_seen_at` integer
);
--> statement-breakpoint
CREATE TABLE `feeds` (
	`id` text PRIMARY KEY NOT NULL,
	`feeder_id` text NOT NULL,
	`command_id` text NOT NULL,
	`source` text NOT NULL,
	`portions` integer NOT NULL,
	`status` text NOT NULL,
	`error` text,
	`grams` real,
	`requested_by` text,
	`idempotency_key` text,
	`requested_at` integer NOT NULL,
	`expires_at` integer,
	`sent_at` integer,
	`accepted_at` integer,
	`completed_at` integer,
	FOREIGN KEY (`feeder_id`) REFERENCES `feeders`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `feeds_command_idx` ON `feeds` (`feeder_id`,`command_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `feeds_idempotency_idx` ON `feeds` (`feeder_id`,`idempotency_key`);--> statement-breakpoint
CREATE INDEX `feeds_feeder_time_idx` ON `feeds` (`feeder_id`,`requested_at`);--> statement-breakpoint
CREATE INDEX `feeds_open_idx` ON `feeds` (`status`) WHERE status in ('pending', 'sent', 'accepted');--> statement-breakpoint
CREATE TABLE `sessions` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `sessions_user_idx` ON `sessions` (`user_id`);--> statement-breakpoint
CREATE TABLE `telemetry` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`feeder_id` text NOT NULL,
	`at` integer NOT NULL,
	`food_level` real,
	`weight_grams` real,
	`battery` real,
	`rssi` integer,
	`error` text,
	FOREIGN KEY (`feeder_id`) REFERENCES `feeders`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `telemetry_feeder_time_idx` ON `telemetry` (`feeder_id`,`at`);--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`username` text NOT NULL,
	`password_hash` text NOT NULL,
	`role` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_username_unique` ON `users` (`username`);