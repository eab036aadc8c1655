/**
 * Keeps the schedule stored on a device equal to the server's plan. The plan
 * goes out whole, as versioned desired state, whenever it changes and whenever
 * the device comes back with a version other than the current one; the device
 * confirms the version it applied. A device that loses a schedule it had
 * confirmed, rejects one, or does not confirm in time raises a drift alert.
 *
 * Also checks the device's clock when it says hello: a device feeding on its
 * own schedule feeds by its own clock.
 */
import { Temporal } from "temporal-polyfill";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { AlertService } from "./alerts.js";
import type { DeviceHello, FeederService } from "./feeders.js";
import type { MealPlan, MealPlanService } from "./meal-plans.js";
import { localDateAt, type Weekday } from "./meal-time.js";

/** A device-side schedule: everything the device needs to feed on its own. */
export interface DeviceSchedule {
  version: number;
  timezone: string;
  meals: Array<{ id: string; time: string; days: Weekday[]; portions: number; enabled: boolean }>;
  oneOffs: Array<{ id: string; date: string; time: string; portions: number }>;
  /** `<local date>/<meal id>` */
  skips: string[];
  pause: { from: string; until: string } | null;
}

export interface ScheduleSender {
  sendSchedule(feederId: string, schedule: DeviceSchedule): Promise<void>;
  /** The device gets its plan in UTC, so it needs it again when its zone's offset changes. */
  sendsPlanInUtc?(feederId: string): boolean;
}

/** Timers are re-armed at most this far ahead (a JavaScript timer overflows beyond about 24.8 days). */
const LONGEST_TIMER_MS = 20 * 86_400_000;

/** How long a connected device has to confirm a schedule before its drift is reported. */
export const CONFIRM_WITHIN_MS = 2 * 60_000;
/** A device clock further off than this is reported. */
export const MAX_CLOCK_SKEW_MS = 2 * 60_000;

export class DeviceScheduleSync {
  private sender: ScheduleSender | undefined;
  private readonly confirmTimers = new Map<string, { cancel(): void }>();
  private readonly lastSentAt = new Map<string, number>();
  private readonly offsetTimers = new Map<string, { cancel(): void }>();

  constructor(
    private readonly plans: MealPlanService,
    private readonly feeders: FeederService,
    private readonly alerts: AlertService,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    plans.onChange((feederId) => this.pushIfBehind(feederId));
    feeders.onReady((feederId) => this.pushIfBehind(feederId));
    feeders.onRemoved((feederId) => {
      this.cancelTimer(feederId);
      this.lastSentAt.delete(feederId);
      this.offsetTimers.get(feederId)?.cancel();
      this.offsetTimers.delete(feederId);
    });
  }

  start(sender: ScheduleSender): void {
    this.sender = sender;
  }

  stop(): void {
    for (const timer of this.confirmTimers.values()) timer.cancel();
    this.confirmTimers.clear();
    for (const timer of this.offsetTimers.values()) timer.cancel();
    this.offsetTimers.clear();
    this.sender = undefined;
  }

  /**
   * What the device said in its hello: the schedule version it runs and its clock. `versioned` false: the
   * device keeps no versions (it echoes its plan instead), so only its clock is checked here.
   */
  helloReceived(
    feederId: string,
    hello: Pick<DeviceHello, "scheduleVersion" | "deviceTime">,
    versioned = true,
  ): void {
    if (hello.deviceTime !== undefined) this.checkClock(feederId, Date.parse(hello.deviceTime));
    if (!versioned) return;
    const plan = this.plans.get(feederId);
    if (!plan.deviceDriven) return;
    const runs = hello.scheduleVersion ?? 0;
    if (runs === plan.version) {
      if (plan.deviceVersion !== runs) this.plans.deviceRuns(feederId, runs);
      return;
    }
    // Version 0 was never planned, so a device cannot have lost it.
    if (plan.version > 0 && plan.deviceVersion === plan.version) {
      this.alerts.raise({
        kind: "schedule_drift",
        feederId,
        key: `schedule_drift:${feederId}:lost:${plan.version}`,
        message: `${this.name(feederId)} came back running schedule version ${runs}, but had confirmed version ${plan.version}; the schedule is being sent again.`,
      });
    }
    this.plans.deviceRuns(feederId, runs);
    this.push(feederId, plan);
  }

  scheduleReported(
    feederId: string,
    report: { version: number; status: "applied" | "rejected"; error?: string | undefined },
  ): void {
    const plan = this.plans.get(feederId);
    if (report.status === "rejected") {
      this.alerts.raise({
        kind: "schedule_drift",
        feederId,
        key: `schedule_drift:${feederId}:rejected:${report.version}`,
        message: `${this.name(feederId)} refused schedule version ${report.version}: ${report.error ?? "no reason given"}. It keeps feeding from its old schedule.`,
      });
      // The refusal is the drift: no second alert when its confirmation does not come.
      if (report.version === plan.version) this.cancelTimer(feederId);
      return;
    }
    this.plans.deviceRuns(feederId, report.version);
    if (report.version === plan.version) {
      this.cancelTimer(feederId);
      this.logger.info({ feederId, version: report.version }, "device confirmed its schedule");
    }
  }

  /**
   * A device that echoes the plan it holds instead of confirming versions: `holds` tells whether that is the
   * current plan. If so it counts as confirmed; if not, the plan is sent again (unless a send is still
   * waiting for its echo: the device may report its old plan first).
   */
  scheduleHeld(feederId: string, holds: (desired: DeviceSchedule) => boolean): void {
    const plan = this.plans.get(feederId);
    if (!plan.deviceDriven || plan.version === 0) return;
    if (holds(this.desired(feederId, plan))) {
      // Devices that echo their plan repeat it in every state message: only a change is news.
      if (plan.deviceVersion !== plan.version || this.confirmTimers.has(feederId)) {
        this.scheduleReported(feederId, { version: plan.version, status: "applied" });
      }
      return;
    }
    // Shortly after a send the device may still report what it held before (or a gateway echoes the send
    // before the device reports): sending again then would loop.
    const sentAt = this.lastSentAt.get(feederId);
    if (
      this.confirmTimers.has(feederId) ||
      (sentAt !== undefined && this.clock.now() - sentAt < CONFIRM_WITHIN_MS)
    ) {
      return;
    }
    this.helloReceived(feederId, { scheduleVersion: 0 });
  }

  /**
   * What the device holds is unknown again (its broker restarted, which may have lost it): the plan goes
   * out once it is back.
   */
  forgetDeviceState(feederId: string): void {
    if (this.plans.get(feederId).deviceDriven) this.plans.deviceRuns(feederId, 0);
  }

  /** The device asked for its plan: it gets the current one whatever version it was thought to run. */
  resend(feederId: string): void {
    const plan = this.plans.get(feederId);
    if (plan.deviceDriven) this.push(feederId, plan);
  }

  private pushIfBehind(feederId: string): void {
    if (!this.feeders.find(feederId)) return;
    const plan = this.plans.get(feederId);
    if (plan.deviceDriven && plan.deviceVersion !== plan.version) this.push(feederId, plan);
  }

  private push(feederId: string, plan: MealPlan): void {
    const sender = this.sender;
    // Version 0 is "never planned": the device has nothing to learn.
    if (!sender || plan.version === 0 || !this.feeders.isReady(feederId)) return;
    const schedule = this.desired(feederId, plan);
    sender.sendSchedule(feederId, schedule).catch((err: unknown) => {
      this.logger.error({ err, feederId }, "could not hand the schedule to the broker");
    });
    this.logger.info({ feederId, version: plan.version }, "schedule sent to the device");
    this.lastSentAt.set(feederId, this.clock.now());
    if (sender.sendsPlanInUtc?.(feederId)) this.resendAtNextOffsetChange(feederId, schedule.timezone);
    this.cancelTimer(feederId);
    this.confirmTimers.set(
      feederId,
      this.clock.setTimeout(() => {
        this.confirmTimers.delete(feederId);
        const now = this.plans.get(feederId);
        if (now.deviceVersion === now.version || !this.feeders.isReady(feederId)) return;
        this.alerts.raise({
          kind: "schedule_drift",
          feederId,
          key: `schedule_drift:${feederId}:unconfirmed:${now.version}`,
          message: `${this.name(feederId)} has not confirmed schedule version ${now.version} (it runs ${now.deviceVersion ?? "none"}); its own meals may differ from the plan.`,
        });
      }, CONFIRM_WITHIN_MS),
    );
  }

  /** A plan sent in UTC is an hour off once the clocks change: it goes out again at the change. */
  private resendAtNextOffsetChange(feederId: string, timeZone: string): void {
    this.offsetTimers.get(feederId)?.cancel();
    const now = this.clock.now();
    const next = Temporal.Instant.fromEpochMilliseconds(now)
      .toZonedDateTimeISO(timeZone)
      .getTimeZoneTransition("next");
    if (!next) return;
    const due = next.epochMilliseconds - now;
    this.offsetTimers.set(
      feederId,
      this.clock.setTimeout(
        () => {
          this.offsetTimers.delete(feederId);
          if (due > LONGEST_TIMER_MS) {
            this.resendAtNextOffsetChange(feederId, timeZone);
            return;
          }
          this.logger.info({ feederId, timeZone }, "UTC offset changed: the plan goes to the device again");
          this.resend(feederId);
        },
        Math.min(due, LONGEST_TIMER_MS),
      ),
    );
  }

  private desired(feederId: string, plan: MealPlan): DeviceSchedule {
    return {
      version: plan.version,
      timezone: plan.effectiveTimezone,
      meals: plan.meals.map((m) => ({
        id: m.id,
        time: m.time,
        days: m.days,
        portions: m.portions,
        enabled: m.enabled,
      })),
      oneOffs: plan.oneOffs.map((o) => ({ id: o.id, date: o.date, time: o.time, portions: o.portions })),
      skips: this.plans.upcomingSkips(feederId),
      pause: plan.pause,
    };
  }

  private checkClock(feederId: string, deviceTime: number): void {
    if (Number.isNaN(deviceTime)) return;
    const now = this.clock.now();
    const skew = deviceTime - now;
    if (Math.abs(skew) <= MAX_CLOCK_SKEW_MS) return;
    const seconds = Math.round(Math.abs(skew) / 1000);
    this.alerts.raise({
      kind: "clock_skew",
      feederId,
      // At most one a day per feeder: a wrong clock stays wrong until someone fixes it.
      key: `clock_skew:${feederId}:${localDateAt(new Date(now), "UTC")}`,
      message: `${this.name(feederId)}'s clock is ${Math.floor(seconds / 60)} min ${seconds % 60} s ${skew > 0 ? "ahead of" : "behind"} the server's. Meals it runs on its own are off by as much, and it may refuse commands as expired; check its time (NTP) settings.`,
    });
  }

  private name(feederId: string): string {
    return this.feeders.find(feederId)?.name ?? feederId;
  }

  private cancelTimer(feederId: string): void {
    this.confirmTimers.get(feederId)?.cancel();
    this.confirmTimers.delete(feederId);
  }
}
