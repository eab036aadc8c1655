CREATE TABLE `audit_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`actor` text NOT NULL,
	`user_id` text,
	`action` text NOT NULL,
	`target` text,
	`outcome` text NOT NULL,
	`address` text
);
--> statement-breakpoint
CREATE INDEX `audit_log_time_idx` ON `audit_log` (`at`);