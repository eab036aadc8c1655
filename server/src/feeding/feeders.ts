/**
 * Feeders: their records, their MQTT credentials, and what we know live about
 * each one (connected, ready for commands, last telemetry). Transport-neutral:
 * the bridge tells it what devices said, the API asks it what to show.
 */
import { and, asc, eq, sql } from "drizzle-orm";
import { hashSecret, newSecret, randomId } from "../auth/secrets.js";
import type { Clock } from "../clock.js";
import { AppError } from "../errors.js";
import type { Logger } from "../logger.js";
import { CAPABILITY_SCHEDULE } from "../protocol/native-v1.js";
import type { Store } from "../store/db.js";
import { feeders, pets } from "../store/schema.js";
import { TelemetryWriter } from "./telemetry-writer.js";

/** The part of the profile registry feeders need: which profiles exist, their models, how they connect. */
export interface ProfileCatalog {
  require(id: string): {
    models: Array<{ id: string }>;
    capabilities: { feed: FeedRange; schedule?: { storage: "device" | "server" } };
    transport: { broker: "embedded" | "external"; identify: { by: string } };
  };
}

/** A profile's feed range: `max` in its unit (cups, say), one portion being one `step`. */
interface FeedRange {
  max: number;
  step?: number;
}

/** The most portions (steps of the profile's unit) one feed may ask for. */
export function portionLimit({ max, step = 1 }: FeedRange): number {
  // 2 cups in steps of 1/16 cup is 32 portions; the epsilon absorbs binary fractions like 0.1.
  return Math.floor(max / step + 1e-9);
}

/** Where a vendor device that brought its own credentials was adopted from (a pending connection). */
export interface Adoption {
  deviceKey: string;
  /** Hash of the password the device logged in with; the device keeps using it. */
  secretHash: string;
}
export const DEFAULT_MAX_PORTIONS = 10;

export type FeederRecord = typeof feeders.$inferSelect;

/** What a device says about itself when it (re)connects, whatever its protocol. */
export interface DeviceHello {
  protocolVersion?: number | undefined;
  model: string;
  firmware: string;
  capabilities: string[];
  portionGrams?: number | undefined;
  scheduleSlots?: number | undefined;
  /** The schedule version the device runs; 0 or absent: none. */
  scheduleVersion?: number | undefined;
  /** The device's clock when it said hello (ISO 8601). */
  deviceTime?: string | undefined;
}

/** Sensor readings, whatever the protocol; every field optional. */
export interface DeviceTelemetry {
  foodLevel?: number | undefined;
  weightGrams?: number | undefined;
  battery?: number | undefined;
  rssi?: number | undefined;
  /** Zigbee link quality, 0–255. */
  linkQuality?: number | undefined;
  /** On mains power or charging. */
  charging?: boolean | undefined;
  error?: string | undefined;
}

export interface LatestTelemetry extends DeviceTelemetry {
  at: number;
}

export interface FeederView extends Omit<FeederRecord, "secretHash"> {
  online: boolean;
  telemetry: LatestTelemetry | null;
}

export type LiveFeederView = Pick<FeederView, "id" | "name" | "online" | "telemetry" | "lastSeenAt">;

interface Live {
  connected: boolean;
  /** Subscribed to its commands, or announced itself (hello, status online), on the current connection. */
  ready: boolean;
  telemetry?: LatestTelemetry | null;
  lastSeenAt?: number;
}

export class FeederService {
  private readonly live = new Map<string, Live>();
  private readonly readyListeners: Array<(feederId: string) => void> = [];
  private readonly helloListeners: Array<(feederId: string) => void> = [];
  private readonly removedListeners: Array<(feederId: string) => void> = [];
  private readonly addedListeners: Array<(feeder: FeederRecord) => void> = [];
  private readonly changeListeners: Array<(feederId: string) => void> = [];
  readonly telemetryWriter: TelemetryWriter;
  // Every MQTT CONNECT and every API call on a feeder looks it up: prepared once.
  private readonly byId;
  // Every feeder list the UI shows: prepared once too.
  private readonly ofHousehold;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly profiles: ProfileCatalog,
    private readonly options: { externalBroker: boolean } = { externalBroker: false },
  ) {
    this.telemetryWriter = new TelemetryWriter(store, clock, logger);
    this.byId = store.db
      .select()
      .from(feeders)
      .where(eq(feeders.id, sql.placeholder("id")))
      .prepare();
    this.ofHousehold = store.db
      .select()
      .from(feeders)
      .where(eq(feeders.householdId, sql.placeholder("householdId")))
      .orderBy(asc(feeders.createdAt))
      .prepare();
  }

  /** After a hello is stored: what the device can do (its capabilities) may have changed. */
  onHello(listener: (feederId: string) => void): void {
    this.helloListeners.push(listener);
  }

  onReady(listener: (feederId: string) => void): void {
    this.readyListeners.push(listener);
  }

  onAdded(listener: (feeder: FeederRecord) => void): void {
    this.addedListeners.push(listener);
  }

  onRemoved(listener: (feederId: string) => void): void {
    this.removedListeners.push(listener);
  }

  /** After what a feeder's view shows changed: connection, readiness, readings, hello, settings (for the live UI). */
  onChange(listener: (feederId: string) => void): void {
    this.changeListeners.push(listener);
  }

  private changed(id: string): void {
    for (const listener of this.changeListeners) listener(id);
  }

  create(input: {
    /** Whose feeder it is: only this household's users see it, and only its pets can be linked. */
    householdId: string;
    name: string;
    profile: string;
    model?: string | undefined;
    /** For a device on an external broker: its id there (e.g. the Zigbee2MQTT friendly name). */
    deviceKey?: string | undefined;
    adoption?: Adoption | undefined;
    maxPortions?: number | undefined;
    dailyMaxPortions?: number | undefined;
    minFeedIntervalSeconds?: number | undefined;
    petId?: string | null | undefined;
  }): {
    feeder: FeederView;
    /** Undefined for devices that bring their own credentials (adopted or on an external broker). */
    password: string | undefined;
  } {
    const profile = this.profiles.require(input.profile);
    const identity = this.identityFor(input);
    const model = this.modelFor(input.profile, input.model);
    const maxPortions =
      input.maxPortions ?? Math.min(DEFAULT_MAX_PORTIONS, portionLimit(profile.capabilities.feed));
    this.checkMaxPortions(maxPortions, input.profile);
    if (input.petId) this.requirePet(input.petId, input.householdId);
    if (identity.deviceKey !== null && this.findByDeviceKey(input.profile, identity.deviceKey)) {
      throw new AppError(
        "device_taken",
        `A feeder for the ${input.profile} device "${identity.deviceKey}" already exists.`,
      );
    }
    const record = this.store.db
      .insert(feeders)
      .values({
        id: randomId(),
        householdId: input.householdId,
        name: input.name,
        profile: input.profile,
        profileModel: model,
        deviceKey: identity.deviceKey,
        // Vendor firmware says nothing like Feedkeeper's hello: what it can do comes from its profile.
        ...(identity.password === undefined && {
          capabilities: [
            "feed",
            ...(profile.capabilities.schedule?.storage === "device" ? [CAPABILITY_SCHEDULE] : []),
          ],
        }),
        secretHash: identity.secretHash,
        maxPortions,
        // Left out when not given, so the schema's defaults apply.
        ...(input.dailyMaxPortions !== undefined && { dailyMaxPortions: input.dailyMaxPortions }),
        ...(input.minFeedIntervalSeconds !== undefined && {
          minFeedIntervalSeconds: input.minFeedIntervalSeconds,
        }),
        petId: input.petId ?? null,
        createdAt: new Date(this.clock.now()),
      })
      .returning()
      .get();
    this.logger.info(
      { feederId: record.id, profile: record.profile, deviceKey: record.deviceKey },
      "feeder created",
    );
    for (const listener of this.addedListeners) listener(record);
    return { feeder: this.toView(record), password: identity.password };
  }

  /** A vendor device by its id on the wire. */
  findByDeviceKey(profile: string, deviceKey: string): FeederRecord | undefined {
    return this.store.db
      .select()
      .from(feeders)
      .where(and(eq(feeders.profile, profile), eq(feeders.deviceKey, deviceKey)))
      .get();
  }

  /**
   * How a new feeder's device proves who it is: Feedkeeper-issued credentials, the password it brought
   * (adopted from a pending connection), or nothing here because an external broker vouches for it.
   */
  private identityFor(input: {
    profile: string;
    deviceKey?: string | undefined;
    adoption?: Adoption | undefined;
  }): { deviceKey: string | null; secretHash: string; password: string | undefined } {
    const { transport } = this.profiles.require(input.profile);
    if (transport.broker === "external") {
      if (!this.options.externalBroker) {
        throw new AppError(
          "external_broker_missing",
          `The "${input.profile}" profile reaches its devices through an external MQTT broker: set FEEDKEEPER_MQTT_URL first.`,
        );
      }
      if (!input.deviceKey) {
        throw new AppError("validation_failed", `deviceKey: the device's id on the broker is required.`);
      }
      // Nothing logs in as this feeder; a random hash keeps the column meaningful and unusable.
      return { deviceKey: input.deviceKey, secretHash: hashSecret(newSecret()), password: undefined };
    }
    if (transport.identify.by === "credentials") {
      if (input.deviceKey !== undefined || input.adoption !== undefined) {
        throw new AppError(
          "validation_failed",
          `deviceKey: "${input.profile}" devices use the credentials Feedkeeper issues; they have no device key.`,
        );
      }
      const password = newSecret();
      return { deviceKey: null, secretHash: hashSecret(password), password };
    }
    if (!input.adoption) {
      throw new AppError(
        "adoption_required",
        `"${input.profile}" devices bring their own credentials: point the device at this server and adopt it from the pending devices.`,
      );
    }
    return {
      deviceKey: input.adoption.deviceKey,
      secretHash: input.adoption.secretHash,
      password: undefined,
    };
  }

  /** The owner's pick among the profile's models; a profile with one model needs no pick. */
  private modelFor(profileId: string, model: string | undefined): string | null {
    const { models } = this.profiles.require(profileId);
    if (model === undefined) {
      if (models.length === 1) return models[0]?.id ?? null;
      // Models of one family differ in what their codes mean: guessing would misread its faults.
      throw new AppError(
        "validation_failed",
        `model: the ${profileId} profile has several models; pick one of ${models.map((m) => m.id).join(", ")}.`,
      );
    }
    if (!models.some((m) => m.id === model)) {
      throw new AppError(
        "validation_failed",
        `model: "${model}" is not a model of the ${profileId} profile (${models.map((m) => m.id).join(", ")}).`,
      );
    }
    return model;
  }

  update(
    id: string,
    changes: {
      name?: string | undefined;
      maxPortions?: number | undefined;
      dailyMaxPortions?: number | undefined;
      minFeedIntervalSeconds?: number | undefined;
      petId?: string | null | undefined;
    },
  ): FeederView {
    const record = this.require(id);
    if (changes.petId) this.requirePet(changes.petId, record.householdId);
    if (changes.maxPortions !== undefined) this.checkMaxPortions(changes.maxPortions, record.profile);
    const set = {
      ...(changes.name !== undefined && { name: changes.name }),
      ...(changes.maxPortions !== undefined && { maxPortions: changes.maxPortions }),
      ...(changes.dailyMaxPortions !== undefined && { dailyMaxPortions: changes.dailyMaxPortions }),
      ...(changes.minFeedIntervalSeconds !== undefined && {
        minFeedIntervalSeconds: changes.minFeedIntervalSeconds,
      }),
      ...(changes.petId !== undefined && { petId: changes.petId }),
    };
    if (Object.keys(set).length > 0) this.store.db.update(feeders).set(set).where(eq(feeders.id, id)).run();
    this.changed(id);
    return this.view(id);
  }

  /** A feed may not ask for more than the device family can dispense at once (its profile says how much). */
  private checkMaxPortions(maxPortions: number, profileId: string): void {
    const limit = portionLimit(this.profiles.require(profileId).capabilities.feed);
    if (maxPortions > limit) {
      throw new AppError(
        "portions_out_of_range",
        `maxPortions: the "${profileId}" profile can feed at most ${limit} at once.`,
      );
    }
  }

  /** Issues a new password; the old one stops working and its session is cut by the caller. */
  rotateCredentials(id: string): string {
    const record = this.require(id);
    if (record.deviceKey !== null) throw new AppError("no_issued_credentials");
    const password = newSecret();
    this.store.db
      .update(feeders)
      .set({ secretHash: hashSecret(password) })
      .where(eq(feeders.id, id))
      .run();
    this.logger.info({ feederId: id }, "feeder credentials rotated");
    return password;
  }

  remove(id: string): void {
    this.require(id);
    this.telemetryWriter.forget(id);
    this.store.db.delete(feeders).where(eq(feeders.id, id)).run();
    this.live.delete(id);
    this.logger.info({ feederId: id }, "feeder deleted");
    for (const listener of this.removedListeners) listener(id);
  }

  find(id: string): FeederRecord | undefined {
    return this.byId.get({ id });
  }

  require(id: string): FeederRecord {
    const record = this.find(id);
    if (!record) throw new AppError("feeder_not_found");
    return record;
  }

  view(id: string): FeederView {
    return this.toView(this.require(id));
  }

  /**
   * What view() says about a feeder's connection, readings and last contact, from memory; its name (the
   * one field read from the database) only when asked for. For what runs on every device message; the
   * caller knows the feeder exists.
   */
  liveView(id: string): LiveFeederView {
    const s = this.state(id);
    const find = () => this.find(id);
    return {
      id,
      online: s.connected && s.ready,
      telemetry: this.latestTelemetry(id),
      get name() {
        return find()?.name ?? id;
      },
      get lastSeenAt() {
        return s.lastSeenAt !== undefined ? new Date(s.lastSeenAt) : (find()?.lastSeenAt ?? null);
      },
    };
  }

  /** One household's feeders, oldest first. */
  list(householdId: string): FeederView[] {
    return this.ofHousehold.all({ householdId }).map((r) => this.toView(r));
  }

  /** Every household's feeders: the device side serves them all. */
  listAll(): FeederView[] {
    return this.store.db
      .select()
      .from(feeders)
      .orderBy(asc(feeders.createdAt))
      .all()
      .map((r) => this.toView(r));
  }

  isReady(id: string): boolean {
    return this.live.get(id)?.ready ?? false;
  }

  connected(id: string): void {
    const s = this.heard(id);
    s.connected = true;
    s.ready = false;
  }

  disconnected(id: string): void {
    const s = this.heard(id, true);
    s.connected = false;
    s.ready = false;
    this.changed(id);
  }

  /** A device subscribing to its commands is ready for them, whether or not it says hello (a plain MQTT client). */
  commandsSubscribed(id: string): void {
    this.markReady(id);
  }

  statusReported(id: string, status: "online" | "offline"): void {
    if (status === "online") this.markReady(id);
    else {
      this.state(id).ready = false;
      this.changed(id);
    }
  }

  helloReceived(id: string, hello: DeviceHello): void {
    this.store.db
      .update(feeders)
      .set({
        model: hello.model,
        firmware: hello.firmware,
        protocolVersion: hello.protocolVersion ?? null,
        capabilities: hello.capabilities,
        portionGrams: hello.portionGrams ?? null,
        lastSeenAt: new Date(this.clock.now()),
      })
      .where(eq(feeders.id, id))
      .run();
    for (const listener of this.helloListeners) listener(id);
    this.markReady(id);
    this.changed(id);
  }

  /**
   * A device's readings. A partial message (one sensor per topic) updates its fields and keeps the others'
   * last values; the stored row is the whole picture either way, so it is also right after a restart.
   */
  telemetryReceived(id: string, reading: DeviceTelemetry, options: { partial?: boolean } = {}): void {
    const at = this.clock.now();
    const payload = options.partial ? { ...withoutAt(this.latestTelemetry(id)), ...reading } : reading;
    this.heard(id).telemetry = { ...payload, at };
    this.telemetryWriter.add({
      feederId: id,
      at: new Date(at),
      foodLevel: payload.foodLevel ?? null,
      weightGrams: payload.weightGrams ?? null,
      battery: payload.battery ?? null,
      rssi: payload.rssi ?? null,
      linkQuality: payload.linkQuality ?? null,
      charging: payload.charging ?? null,
      error: payload.error ?? null,
    });
    this.changed(id);
  }

  /**
   * The pet a feeder is linked to must exist in the feeder's household (another household's pet is as
   * unknown as a pet that does not exist); a 404 would say the feeder was not found.
   */
  private requirePet(petId: string, householdId: string): void {
    const pet = this.store.db
      .select({ id: pets.id })
      .from(pets)
      .where(and(eq(pets.id, petId), eq(pets.householdId, householdId)))
      .get();
    if (!pet) throw new AppError("unknown_pet", `petId: no pet with id "${petId}".`);
  }

  private markReady(id: string): void {
    // A status message can only arrive over a live connection.
    const s = this.heard(id);
    s.connected = true;
    const wasReady = s.ready;
    s.ready = true;
    if (wasReady) return;
    for (const listener of this.readyListeners) listener(id);
    this.changed(id);
  }

  /** Notes that the feeder was just heard from; the writer persists it with the next batch. */
  private heard(id: string, persistNow = false): Live {
    const s = this.state(id);
    s.lastSeenAt = this.clock.now();
    this.telemetryWriter.touch(id, s.lastSeenAt, persistNow);
    return s;
  }

  private state(id: string): Live {
    let s = this.live.get(id);
    if (!s) {
      s = { connected: false, ready: false };
      this.live.set(id, s);
    }
    return s;
  }

  private latestTelemetry(id: string): LatestTelemetry | null {
    const s = this.state(id);
    if (s.telemetry === undefined) {
      const row = this.telemetryWriter.latest(id);
      s.telemetry = row
        ? {
            at: row.at.getTime(),
            ...(row.foodLevel !== null && { foodLevel: row.foodLevel }),
            ...(row.weightGrams !== null && { weightGrams: row.weightGrams }),
            ...(row.battery !== null && { battery: row.battery }),
            ...(row.rssi !== null && { rssi: row.rssi }),
            ...(row.linkQuality !== null && { linkQuality: row.linkQuality }),
            ...(row.charging !== null && { charging: row.charging }),
            ...(row.error !== null && { error: row.error }),
          }
        : null;
    }
    return s.telemetry;
  }

  private toView(record: FeederRecord): FeederView {
    const { secretHash: _, ...rest } = record;
    const s = this.live.get(record.id);
    return {
      ...rest,
      lastSeenAt: s?.lastSeenAt !== undefined ? new Date(s.lastSeenAt) : record.lastSeenAt,
      online: s?.connected === true && s.ready,
      telemetry: this.latestTelemetry(record.id),
    };
  }
}

function withoutAt(telemetry: LatestTelemetry | null): DeviceTelemetry {
  if (!telemetry) return {};
  const { at: _, ...rest } = telemetry;
  return rest;
}
