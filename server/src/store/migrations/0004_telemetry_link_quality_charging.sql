ALTER TABLE `telemetry` ADD `link_quality` integer;--> statement-breakpoint
ALTER TABLE `telemetry` ADD `charging` integer;