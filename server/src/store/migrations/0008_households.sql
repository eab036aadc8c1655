CREATE TABLE `households` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
INSERT INTO `households` (`id`, `name`) VALUES ('home', 'Home');--> statement-breakpoint
ALTER TABLE `audit_log` ADD `household_id` text;--> statement-breakpoint
ALTER TABLE `feeders` ADD `household_id` text DEFAULT 'home' NOT NULL REFERENCES households(id);--> statement-breakpoint
ALTER TABLE `pets` ADD `household_id` text DEFAULT 'home' NOT NULL REFERENCES households(id);--> statement-breakpoint
ALTER TABLE `users` ADD `household_id` text DEFAULT 'home' NOT NULL REFERENCES households(id);