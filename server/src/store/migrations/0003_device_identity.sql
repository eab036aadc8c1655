ALTER TABLE `feeders` ADD `profile_model` text;--> statement-breakpoint
ALTER TABLE `feeders` ADD `device_key` text;--> statement-breakpoint
CREATE UNIQUE INDEX `feeders_device_key_idx` ON `feeders` (`profile`,`device_key`);