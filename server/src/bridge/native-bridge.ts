/**
 * Translates between the native MQTT protocol and the feeding core. Every
 * device payload is parsed and validated here; a bad one is logged with the
 * feeder id and dropped, and never reaches the core.
 *
 * The bridge never sees its own publishes: device messages arrive through the
 * broker's per-client hook, which server publishes do not pass through.
 */
import type { z } from "zod";
import type { BrokerHooks, PublishOptions } from "../broker/embedded-broker.js";
import type { Clock } from "../clock.js";
import type { DeviceSchedule, DeviceScheduleSync, ScheduleSender } from "../feeding/device-schedule-sync.js";
import type { FeederService } from "../feeding/feeders.js";
import type { FeedCommand, FeedCommandSender, FeedService } from "../feeding/feeds.js";
import { LogThrottle } from "../log-throttle.js";
import type { Logger } from "../logger.js";
import {
  type FeedCommandPayload,
  feedReportPayload,
  helloPayload,
  type ScheduleCommandPayload,
  SERVER_STATUS_TOPIC,
  scheduleReportPayload,
  statusPayload,
  telemetryPayload,
  topics,
} from "../protocol/native-v1.js";

export interface Publisher {
  publish(topic: string, payload: string, options: PublishOptions): Promise<void>;
}

export class NativeBridge implements BrokerHooks, FeedCommandSender, ScheduleSender {
  private publisher: Publisher | undefined;
  private readonly dropLogs: LogThrottle;

  constructor(
    private readonly feeders: FeederService,
    private readonly feeds: FeedService,
    private readonly schedules: DeviceScheduleSync,
    private readonly logger: Logger,
    clock: Clock,
  ) {
    this.dropLogs = new LogThrottle(clock);
    feeders.onRemoved((id) => this.dropLogs.forget(id));
  }

  attach(publisher: Publisher): Promise<void> {
    this.publisher = publisher;
    return publisher.publish(SERVER_STATUS_TOPIC, "online", { qos: 1, retain: true });
  }

  /** Announces the server going away; devices keep their own schedules meanwhile. */
  async detach(): Promise<void> {
    await this.publisher?.publish(SERVER_STATUS_TOPIC, "offline", { qos: 1, retain: true });
    this.publisher = undefined;
  }

  checkCredentials(feederId: string, password: Buffer): boolean {
    return this.feeders.checkCredentials(feederId, password.toString("utf8"));
  }

  onConnected(feederId: string): boolean {
    if (!this.feeders.find(feederId)) {
      this.logger.warn({ feederId }, "cut the session of a feeder deleted while it connected");
      return false;
    }
    this.feeders.connected(feederId);
    this.logger.info({ feederId }, "feeder connected");
    return true;
  }

  onDisconnected(feederId: string): void {
    this.feeders.disconnected(feederId);
    this.logger.info({ feederId }, "feeder disconnected");
  }

  onCommandsSubscribed(feederId: string): void {
    this.feeders.commandsSubscribed(feederId);
  }

  onMessage(feederId: string, channel: string, payload: Buffer, retain: boolean): void {
    switch (channel) {
      case "status": {
        const status = this.parse(feederId, channel, statusPayload, payload.toString("utf8").trim());
        if (status) this.feeders.statusReported(feederId, status);
        return;
      }
      case "hello": {
        const hello = this.parseJson(feederId, channel, helloPayload, payload);
        if (hello) {
          this.feeders.helloReceived(feederId, hello);
          this.schedules.helloReceived(feederId, hello);
        }
        return;
      }
      case "schedule": {
        const report = this.parseJson(feederId, channel, scheduleReportPayload, payload);
        if (report) this.schedules.scheduleReported(feederId, report);
        return;
      }
      case "feed": {
        // The broker strips retain from events, but an external broker may replay old ones: never trust them.
        if (retain) {
          this.drop(feederId, channel, "retained feed reports are ignored");
          return;
        }
        const report = this.parseJson(feederId, channel, feedReportPayload, payload);
        if (report) this.feeds.deviceReported(feederId, { ...report, at: new Date(report.at) });
        return;
      }
      case "telemetry": {
        const t = this.parseJson(feederId, channel, telemetryPayload, payload);
        if (t) this.feeders.telemetryReceived(feederId, t);
        return;
      }
      default:
        this.drop(feederId, channel, "unknown channel");
    }
  }

  async sendFeed(feederId: string, command: FeedCommand): Promise<void> {
    if (!this.publisher) throw new Error("broker not attached");
    const payload: FeedCommandPayload = {
      id: command.id,
      portions: command.portions,
      expiresAt: command.expiresAt.toISOString(),
    };
    // Never retained: a retained command would replay on every reconnect.
    await this.publisher.publish(topics.commandFeed(feederId), JSON.stringify(payload), {
      qos: 1,
      retain: false,
    });
  }

  async sendSchedule(feederId: string, schedule: DeviceSchedule): Promise<void> {
    if (!this.publisher) throw new Error("broker not attached");
    const payload: ScheduleCommandPayload = schedule;
    // Not retained either: the server re-sends it on every reconnect that reports another version, and a
    // retained copy would outlive the feeder's deletion in the broker.
    await this.publisher.publish(topics.commandSchedule(feederId), JSON.stringify(payload), {
      qos: 1,
      retain: false,
    });
  }

  private parseJson<T>(
    feederId: string,
    channel: string,
    schema: z.ZodType<T>,
    payload: Buffer,
  ): T | undefined {
    let value: unknown;
    try {
      value = JSON.parse(payload.toString("utf8"));
    } catch {
      this.drop(feederId, channel, "payload is not JSON");
      return undefined;
    }
    return this.parse(feederId, channel, schema, value);
  }

  private parse<T>(feederId: string, channel: string, schema: z.ZodType<T>, value: unknown): T | undefined {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    const problems = result.error.issues.map((i) => `${i.path.join(".") || "payload"}: ${i.message}`);
    this.drop(feederId, channel, problems.join("; "));
    return undefined;
  }

  private drop(feederId: string, channel: string, reason: string): void {
    const { log, suppressed } = this.dropLogs.admit(feederId);
    if (!log) return;
    this.logger.warn(
      { feederId, channel, reason, ...(suppressed > 0 && { suppressedSinceLastLog: suppressed }) },
      "dropped device message",
    );
  }
}
