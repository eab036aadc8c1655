/**
 * S4 (mass assignment and excessive data exposure, OWASP API3; ETSI 5.4-1): every JSON body the API takes,
 * sent with properties the caller must not set (ids, households, owners, roles, hashes, passwords, MQTT
 * secrets, device keys, profiles, timestamps, feed outcomes, schedule versions). Each must be refused with
 * 400 or ignored, and "ignored" is checked where it counts: the database row itself, read before and after,
 * differs only in the columns the route's schema lets the caller change, and secrets that were offered
 * (an MQTT password, an API token) do not work.
 *
 * Every response of the file is recorded and scanned at the end: no key named like pass/secret/token/hash
 * holds a value, except the documented one-time answers (a new API token; a feeder's MQTT password when it
 * is created or its credentials are reissued), and no known secret appears anywhere else.
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import type mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Running } from "../../server/src/main.js";
import { FakeClock } from "../../server/src/testing/fake-clock.js";
import { type ApiResponse, TestApi } from "../helpers/api.js";
import { bootInProcess } from "../helpers/in-process.js";
import { connack } from "../helpers/mqtt-connack.js";
import { makeDataDir } from "../helpers/server.js";

const OWNER_PASSWORD = "owner pass phrase 7Kq";
const MEMBER_PASSWORD = "member pass phrase 3Xz";
const MEMBER_NEW_PASSWORD = "member new phrase 9Wv";
const OFFERED_SECRET = "attacker-chosen-secret-1";
const OFFERED_TOKEN = "fkt_attackerchosentokenattackerchosentoken1";
const LONG_AGO = "2000-01-01T00:00:00.000Z";
const FAR_AHEAD = "2099-01-01T00:00:00.000Z";
const SERIAL = "AF0123456789AB";
const DEVICE_PASSWORD = "petlibro-product-secret";

const SECRET_KEY = /pass|secret|token|hash/i;

const recorded: Array<{ call: string; body: unknown }> = [];
/** Secrets the server issued, with the one recorded answer allowed to show each. */
const issued: Array<{ value: string; at: number }> = [];
/** Notes a secret the last recorded answer issued. */
const issuedByLastAnswer = (value: string) => issued.push({ value, at: recorded.length - 1 });

/** A TestApi that records every answer for the scan at the end. */
class RecordingApi extends TestApi {
  override async request<T = any>(
    method: string,
    urlPath: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse<T>> {
    const res = await super.request<T>(method, urlPath, body, headers);
    recorded.push({ call: `${method} ${urlPath} → ${res.status}`, body: res.body });
    return res;
  }
}

const clock = new FakeClock();
let dataDir: string;
let server: Running;
let db: Database.Database;
/** A channel made by the notification channels test, for the read-back sweep. */
let notificationChannelId = "";
let owner: RecordingApi;
let member: RecordingApi;
let ownerId: string;
let memberId: string;
let feederId: string;
let otherFeederId: string;
let feederPassword: string;
const mqttClients: mqtt.MqttClient[] = [];

const row = (table: string, id: string) =>
  db.prepare(`select * from ${table} where id = ?`).get(id) as Record<string, unknown> | undefined;
const count = (table: string) => (db.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n;

/** The columns of a row that differ between two reads. */
function changedColumns(
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown> | undefined,
) {
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})]);
  return [...keys].filter((k) => JSON.stringify(before?.[k]) !== JSON.stringify(after?.[k])).sort();
}

async function signIn(username: string, password: string, extra: object = {}): Promise<ApiResponse<any>> {
  return new RecordingApi(owner.baseUrl).request("POST", "/api/session", { username, password, ...extra });
}

/** A token for a signed-in user, made through the session cookie the way the web UI would. */
async function tokenFor(username: string, password: string): Promise<string> {
  const login = await signIn(username, password);
  expect(login.status).toBe(200);
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const res = await new RecordingApi(owner.baseUrl).request(
    "POST",
    "/api/tokens",
    { name: "s4" },
    { cookie, origin: owner.baseUrl },
  );
  expect(res.status).toBe(201);
  issuedByLastAnswer(res.body.token);
  return res.body.token;
}

const mqttConnack = (options: mqtt.IClientOptions) =>
  connack(`mqtt://127.0.0.1:${server.mqttPort}`, options, mqttClients);

beforeAll(async () => {
  dataDir = makeDataDir();
  let api: TestApi;
  ({ server, api } = await bootInProcess({ dataDir, clock }));
  owner = new RecordingApi(api.baseUrl);
  db = new Database(path.join(dataDir, "feedkeeper.db"), { readonly: true, fileMustExist: true });
});

afterAll(async () => {
  for (const c of mqttClients) c.end(true);
  db?.close();
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("S4: accounts", () => {
  it("creates the owner at setup with nothing but a username and password from the body", async () => {
    const res = await owner.request(
      "POST",
      "/api/setup",
      {
        username: "owner",
        password: OWNER_PASSWORD,
        id: "chosen-owner",
        role: "sitter",
        householdId: "elsewhere",
        passwordHash: "plain",
        createdAt: LONG_AGO,
        expiresAt: LONG_AGO,
      },
      { origin: owner.baseUrl },
    );
    expect(res.status).toBe(201);
    ownerId = res.body.user.id;
    expect(ownerId).not.toBe("chosen-owner");
    expect(res.body.user).toEqual({
      id: ownerId,
      username: "owner",
      role: "owner",
      createdAt: new Date(clock.now()).toISOString(),
      expiresAt: null,
    });
    const stored = row("users", ownerId);
    expect(stored).toMatchObject({ household_id: "home", role: "owner", expires_at: null });
    expect(stored?.password_hash).toMatch(/^scrypt\$/);
    owner.token = await tokenFor("owner", OWNER_PASSWORD);
  });

  it("adds a user with the household, id and hash the server chooses", async () => {
    const res = await owner.request("POST", "/api/users", {
      username: "mia",
      password: MEMBER_PASSWORD,
      role: "member",
      id: "chosen-user",
      householdId: "elsewhere",
      passwordHash: "plain",
      tokenHash: "plain",
      createdAt: LONG_AGO,
    });
    expect(res.status).toBe(201);
    memberId = res.body.user.id;
    expect(memberId).not.toBe("chosen-user");
    expect(res.body.user.createdAt).toBe(new Date(clock.now()).toISOString());
    const stored = row("users", memberId);
    expect(stored).toMatchObject({ household_id: "home", role: "member" });
    expect(stored?.password_hash).toMatch(/^scrypt\$/);
    expect(row("users", "chosen-user")).toBeUndefined();
    member = new RecordingApi(owner.baseUrl, await tokenFor("mia", MEMBER_PASSWORD));
  });

  it("signs a member in as the member, whatever else the sign-in body says", async () => {
    const res = await signIn("mia", MEMBER_PASSWORD, { role: "owner", userId: ownerId, id: ownerId });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ id: memberId, username: "mia", role: "member" });
  });

  it("refuses, with 400, a user change that names anything but role and expiresAt", async () => {
    const before = row("users", memberId);
    for (const body of [
      { role: "member", passwordHash: "plain" },
      { password: "a brand new password" },
      { username: "renamed" },
      { householdId: "elsewhere" },
      { id: "chosen" },
      { createdAt: LONG_AGO },
    ]) {
      const res = await owner.request("PATCH", `/api/users/${memberId}`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe("validation_failed");
    }
    expect(row("users", memberId)).toEqual(before);
  });

  it("does not let a member promote itself, end-date itself away, or add an owner", async () => {
    const before = row("users", memberId);
    const promote = await member.request("PATCH", `/api/users/${memberId}`, { role: "owner" });
    expect(promote.status).toBe(403);
    expect(promote.body.error.code).toBe("forbidden");
    expect((await member.request("PATCH", `/api/users/${memberId}`, { expiresAt: null })).status).toBe(403);
    expect((await member.request("PATCH", `/api/users/${ownerId}`, { role: "member" })).status).toBe(403);
    const addOwner = await member.request("POST", "/api/users", {
      username: "sneaky",
      password: "a long enough password",
      role: "owner",
    });
    expect(addOwner.status).toBe(403);
    expect(row("users", memberId)).toEqual(before);
    expect(count("users")).toBe(2);
    expect((await member.request("GET", "/api/session")).body.user.role).toBe("member");
  });

  it("changes only the caller's own password, and nothing else, on a password change", async () => {
    const ownerBefore = row("users", ownerId);
    const memberBefore = row("users", memberId);
    const res = await member.request("POST", "/api/users/me/password", {
      currentPassword: MEMBER_PASSWORD,
      newPassword: MEMBER_NEW_PASSWORD,
      userId: ownerId,
      id: ownerId,
      username: "owner",
      role: "owner",
      passwordHash: "plain",
    });
    expect(res.status).toBe(204);
    expect(row("users", ownerId)).toEqual(ownerBefore);
    expect(changedColumns(memberBefore, row("users", memberId))).toEqual(["password_hash"]);
    expect((await signIn("owner", OWNER_PASSWORD)).status).toBe(200);
    expect((await signIn("mia", MEMBER_NEW_PASSWORD)).body.user.role).toBe("member");
  });

  it("issues a token with a secret of its own, for the caller, never above the caller's role", async () => {
    const res = await owner.request("POST", "/api/tokens", {
      name: "script",
      token: OFFERED_TOKEN,
      tokenHash: "plain",
      id: "chosen-token",
      userId: memberId,
      createdAt: LONG_AGO,
      lastUsedAt: LONG_AGO,
      expiresAt: LONG_AGO,
    });
    expect(res.status).toBe(201);
    issuedByLastAnswer(res.body.token);
    expect(res.body.token).not.toBe(OFFERED_TOKEN);
    expect(res.body.apiToken).toEqual({
      id: expect.not.stringMatching(/^chosen-token$/),
      name: "script",
      role: null,
      createdAt: new Date(clock.now()).toISOString(),
      expiresAt: null,
      lastUsedAt: null,
    });
    const stored = row("api_tokens", res.body.apiToken.id);
    expect(stored).toMatchObject({ user_id: ownerId, expires_at: null, last_used_at: null });
    expect(stored?.token_hash).not.toBe("plain");
    const offered = await new RecordingApi(owner.baseUrl, OFFERED_TOKEN).request("GET", "/api/session");
    expect(offered.status).toBe(401);
    const issuedToken = new RecordingApi(owner.baseUrl, res.body.token);
    expect((await issuedToken.request("GET", "/api/session")).body.user.id).toBe(ownerId);

    const tokensBefore = count("api_tokens");
    const above = await member.request("POST", "/api/tokens", { name: "escalate", role: "owner" });
    expect(above.status).toBe(403);
    const forOwner = await member.request("POST", "/api/tokens", { name: "as owner", userId: ownerId });
    expect(forOwner.status).toBe(201);
    issuedByLastAnswer(forOwner.body.token);
    const asWho = await new RecordingApi(owner.baseUrl, forOwner.body.token).request("GET", "/api/session");
    expect(asWho.body.user).toMatchObject({ id: memberId, role: "member" });
    expect(count("api_tokens")).toBe(tokensBefore + 1);
  });
});

describe("S4: feeders", () => {
  it("creates a feeder with the id, household, secret and device state the server chooses", async () => {
    const res = await owner.request("POST", "/api/feeders", {
      name: "Kitchen",
      profile: "feedkeeper",
      minFeedIntervalSeconds: 0,
      id: "chosen-feeder",
      householdId: "elsewhere",
      secretHash: "plain",
      mqttPassword: OFFERED_SECRET,
      password: OFFERED_SECRET,
      credentials: { username: "chosen-feeder", password: OFFERED_SECRET },
      online: true,
      lastSeenAt: FAR_AHEAD,
      firmware: "evil-1.0",
      capabilities: ["feed", "schedule"],
      portionGrams: 99,
      protocolVersion: 9,
      scheduleVersion: 999,
      graceMinutes: 0,
      createdAt: LONG_AGO,
      lastFeed: { id: "x", status: "dispensed" },
      telemetry: { at: FAR_AHEAD, foodLevel: 1 },
    });
    expect(res.status).toBe(201);
    const { feeder, credentials } = res.body;
    feederId = feeder.id;
    feederPassword = credentials.password;
    issuedByLastAnswer(feederPassword);
    expect(feederId).not.toBe("chosen-feeder");
    expect(credentials).toEqual({
      username: feederId,
      clientId: feederId,
      password: expect.not.stringMatching(OFFERED_SECRET),
      topicRoot: `feedkeeper/${feederId}`,
    });
    expect(feeder).toMatchObject({
      online: false,
      lastSeenAt: null,
      firmware: null,
      capabilities: [],
      portionGrams: null,
      createdAt: new Date(clock.now()).toISOString(),
      lastFeed: null,
      telemetry: null,
      deviceKey: null,
    });
    expect(row("feeders", feederId)).toMatchObject({
      household_id: "home",
      protocol_version: null,
      schedule_version: 0,
      grace_minutes: 15,
      device_key: null,
    });
    expect(row("feeders", feederId)?.secret_hash).not.toBe("plain");
    // The offered secret is not the feeder's MQTT password; the issued one is.
    expect(await mqttConnack({ clientId: feederId, username: feederId, password: OFFERED_SECRET })).toBe(4);
    expect(await mqttConnack({ clientId: feederId, username: feederId, password: feederPassword })).toBe(
      "connected",
    );
    mqttClients.pop()?.end(true);
    otherFeederId = (await owner.request("POST", "/api/feeders", { name: "Hall", profile: "feedkeeper" }))
      .body.feeder.id;
  });

  it("refuses a device key for a feeder that logs in with issued credentials, and a vendor device made by hand", async () => {
    const before = count("feeders");
    const withKey = await owner.request("POST", "/api/feeders", {
      name: "Keyed",
      profile: "feedkeeper",
      deviceKey: "kitchen_feeder",
    });
    expect(withKey.status).toBe(400);
    const vendor = await owner.request("POST", "/api/feeders", {
      name: "Vendor",
      profile: "petlibro-dl",
      deviceKey: SERIAL,
    });
    expect(vendor.status).toBeGreaterThanOrEqual(400);
    expect(vendor.status).toBeLessThan(500);
    expect(count("feeders")).toBe(before);
  });

  it("changes only name and limits on PATCH; id, profile, device key, secret and device state stay", async () => {
    const before = row("feeders", feederId);
    const res = await owner.request("PATCH", `/api/feeders/${feederId}`, {
      name: "Kitchen 2",
      id: "chosen-feeder",
      householdId: "elsewhere",
      profile: "petlibro-dl",
      profileModel: "PLAF203",
      deviceKey: SERIAL,
      secretHash: "plain",
      mqttPassword: OFFERED_SECRET,
      password: OFFERED_SECRET,
      online: true,
      lastSeenAt: FAR_AHEAD,
      firmware: "evil-1.0",
      capabilities: ["feed", "schedule"],
      portionGrams: 99,
      createdAt: LONG_AGO,
      scheduleVersion: 999,
      deviceScheduleVersion: 999,
      timezone: "Etc/GMT+12",
      graceMinutes: 180,
    });
    expect(res.status).toBe(200);
    expect(res.body.feeder).toMatchObject({
      id: feederId,
      name: "Kitchen 2",
      profile: "feedkeeper",
      deviceKey: null,
    });
    expect(changedColumns(before, row("feeders", feederId))).toEqual(["name"]);
    expect((await owner.request("GET", `/api/feeders/${feederId}`)).body.feeder.name).toBe("Kitchen 2");
    // Its MQTT password is still the issued one.
    expect(await mqttConnack({ clientId: feederId, username: feederId, password: OFFERED_SECRET })).toBe(4);
    expect(await mqttConnack({ clientId: feederId, username: feederId, password: feederPassword })).toBe(
      "connected",
    );
    mqttClients.pop()?.end(true);
  });

  it("issues new MQTT credentials of the server's choosing, whatever the body offers", async () => {
    const res = await owner.request("POST", `/api/feeders/${feederId}/credentials`, {
      password: OFFERED_SECRET,
      mqttPassword: OFFERED_SECRET,
    });
    expect(res.status).toBe(201);
    expect(res.body.credentials.password).not.toBe(OFFERED_SECRET);
    issuedByLastAnswer(res.body.credentials.password);
    expect(await mqttConnack({ clientId: feederId, username: feederId, password: OFFERED_SECRET })).toBe(4);
    feederPassword = res.body.credentials.password;
  });

  it("adopts a waiting device into the adopter's household with its own key, profile and password", async () => {
    // A Petlibro feeder logs in with its serial as client id and is held as pending.
    expect(await mqttConnack({ clientId: SERIAL, username: "product-key", password: DEVICE_PASSWORD })).toBe(
      "connected",
    );
    const pending = await owner.request("GET", "/api/devices/pending");
    const held = pending.body.devices.find((d: { deviceKey: string }) => d.deviceKey === SERIAL);
    expect(held).toBeDefined();
    const res = await owner.request("POST", `/api/devices/pending/${held.id}/adopt`, {
      name: "Pantry",
      model: "PLAF203",
      id: "chosen-feeder-2",
      profile: "feedkeeper",
      deviceKey: "OTHERSERIAL0001",
      householdId: "elsewhere",
      secretHash: "plain",
      mqttPassword: OFFERED_SECRET,
      password: OFFERED_SECRET,
      adoption: { deviceKey: "OTHERSERIAL0001", secretHash: "plain" },
    });
    expect(res.status).toBe(201);
    const adopted = res.body.feeder;
    expect(adopted).toMatchObject({ profile: "petlibro-dl", deviceKey: SERIAL, profileModel: "PLAF203" });
    expect(adopted.id).not.toBe("chosen-feeder-2");
    expect(row("feeders", adopted.id)).toMatchObject({ household_id: "home", device_key: SERIAL });
    expect(row("feeders", adopted.id)?.secret_hash).not.toBe("plain");
    // It comes back with the password it was held with; the offered one is refused.
    for (const c of mqttClients.splice(0)) c.end(true);
    expect(await mqttConnack({ clientId: SERIAL, username: "product-key", password: OFFERED_SECRET })).toBe(
      4,
    );
    expect(await mqttConnack({ clientId: SERIAL, username: "product-key", password: DEVICE_PASSWORD })).toBe(
      "connected",
    );
    for (const c of mqttClients.splice(0)) c.end(true);
  });
});

describe("S4: feeds and meal plans", () => {
  it("records a feed now with the outcome, source, ids and times the server decides", async () => {
    const res = await owner.request("POST", `/api/feeders/${feederId}/feeds`, {
      portions: 1,
      id: "chosen-feed",
      commandId: "chosen-command",
      feederId: otherFeederId,
      source: "schedule",
      status: "dispensed",
      error: null,
      grams: 999,
      requestedBy: memberId,
      idempotencyKey: "chosen-key",
      requestedAt: LONG_AGO,
      expiresAt: FAR_AHEAD,
      sentAt: LONG_AGO,
      acceptedAt: LONG_AGO,
      completedAt: LONG_AGO,
    });
    expect(res.status).toBe(202);
    const feed = res.body.feed;
    const now = clock.now();
    expect(feed).toEqual({
      id: expect.not.stringMatching(/^chosen-feed$/),
      feederId,
      source: "remote",
      portions: 1,
      status: "pending",
      error: null,
      grams: null,
      requestedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + 60_000).toISOString(),
      sentAt: null,
      acceptedAt: null,
      completedAt: null,
    });
    expect(row("feeds", feed.id)).toMatchObject({
      feeder_id: feederId,
      command_id: feed.id,
      requested_by: ownerId,
      idempotency_key: null,
      source: "remote",
    });
    expect((await owner.request("GET", `/api/feeders/${otherFeederId}/feeds`)).body.feeds).toEqual([]);
  });

  it("keeps the schedule's version, device state and other feeders out of reach of PUT schedule", async () => {
    const before = row("feeders", feederId);
    const otherBefore = (await owner.request("GET", `/api/feeders/${otherFeederId}/schedule`)).body;
    const res = await owner.request("PUT", `/api/feeders/${feederId}/schedule`, {
      meals: [
        {
          id: "breakfast",
          time: "07:30",
          days: ["mon"],
          portions: 1,
          feederId: otherFeederId,
          occurrenceId: "x",
          state: "fed",
          feedId: "x",
        },
      ],
      feederId: otherFeederId,
      version: 999,
      deviceVersion: 999,
      deviceDriven: true,
      effectiveTimezone: "Etc/GMT+12",
      oneOffs: [{ id: "chosen", date: "2026-12-24", time: "03:00", portions: 9, label: "" }],
      pause: { from: "2026-12-01", until: "2026-12-31" },
    });
    expect(res.status).toBe(200);
    const version = (before?.schedule_version as number) + 1;
    expect(res.body.schedule).toMatchObject({
      version,
      deviceVersion: null,
      deviceDriven: false,
      oneOffs: [],
      pause: null,
      meals: [{ id: "breakfast", time: "07:30", days: ["mon"], portions: 1 }],
    });
    expect(Object.keys(res.body.schedule.meals[0]).sort()).toEqual(
      ["days", "enabled", "id", "label", "portions", "time"].sort(),
    );
    expect(changedColumns(before, row("feeders", feederId))).toEqual(["schedule_version"]);
    expect((await owner.request("GET", `/api/feeders/${otherFeederId}/schedule`)).body).toEqual(otherBefore);
  });

  it("takes only from and until for a pause, and only the meal for a one-off", async () => {
    const before = row("feeders", feederId);
    const paused = await owner.request("PUT", `/api/feeders/${feederId}/schedule/pause`, {
      from: "2026-12-01",
      until: "2026-12-02",
      version: 999,
      feederId: otherFeederId,
    });
    expect(paused.status).toBe(200);
    expect(paused.body.schedule.version).toBe((before?.schedule_version as number) + 1);
    expect(changedColumns(before, row("feeders", feederId))).toEqual(
      ["paused_from", "paused_until", "schedule_version"].sort(),
    );
    expect(row("feeders", otherFeederId)).toMatchObject({ paused_from: null, paused_until: null });

    const oneOff = await owner.request("POST", `/api/feeders/${feederId}/schedule/one-offs`, {
      date: "2026-12-24",
      time: "18:00",
      portions: 1,
      id: "chosen",
      feederId: otherFeederId,
    });
    expect(oneOff.status).toBe(201);
    expect(oneOff.body.oneOff.id).not.toBe("chosen");
    expect(
      (await owner.request("GET", `/api/feeders/${otherFeederId}/schedule`)).body.schedule.oneOffs,
    ).toEqual([]);
  });
});

describe("S4: pets", () => {
  it("creates and changes a pet with only name and daily target from the body", async () => {
    const created = await owner.request("POST", "/api/pets", {
      name: "Miso",
      dailyGramsTarget: 80,
      id: "chosen-pet",
      householdId: "elsewhere",
      createdAt: LONG_AGO,
    });
    expect(created.status).toBe(201);
    const petId = created.body.pet.id;
    expect(created.body.pet).toEqual({
      id: expect.not.stringMatching(/^chosen-pet$/),
      name: "Miso",
      dailyGramsTarget: 80,
      createdAt: new Date(clock.now()).toISOString(),
    });
    expect(row("pets", petId)).toMatchObject({ household_id: "home" });

    const before = row("pets", petId);
    const changed = await owner.request("PATCH", `/api/pets/${petId}`, {
      name: "Miso 2",
      id: "chosen-pet",
      householdId: "elsewhere",
      createdAt: LONG_AGO,
    });
    expect(changed.status).toBe(200);
    expect(changedColumns(before, row("pets", petId))).toEqual(["name"]);
  });
});

describe("S4: notification channels", () => {
  it("refuses what a channel's schema does not name, and never shows the secret it keeps", async () => {
    const body = {
      name: "Hook",
      type: "webhook",
      config: { url: "http://127.0.0.1:9/hook", signingSecret: OFFERED_SECRET },
    };
    for (const extra of [
      { id: "chosen-channel" },
      { householdId: "elsewhere" },
      { createdAt: LONG_AGO },
      { status: { lastSuccessAt: FAR_AHEAD } },
      { secret: OFFERED_SECRET },
    ]) {
      const res = await owner.request("POST", "/api/notification-channels", { ...body, ...extra });
      expect(res.status, JSON.stringify(extra)).toBe(400);
    }
    const created = await owner.request("POST", "/api/notification-channels", body);
    expect(created.status).toBe(201);
    notificationChannelId = created.body.channel.id;
    expect(created.body.channel.config).toEqual({
      url: "http://127.0.0.1:9/hook",
      signingSecret: { set: true },
    });
    expect(row("notification_channels", notificationChannelId)).toMatchObject({
      household_id: "home",
      secret: OFFERED_SECRET,
    });

    const before = row("notification_channels", notificationChannelId);
    for (const extra of [{ householdId: "elsewhere" }, { type: "email" }, { lastError: "x" }]) {
      const res = await owner.request("PATCH", `/api/notification-channels/${notificationChannelId}`, extra);
      expect(res.status, JSON.stringify(extra)).toBe(400);
    }
    const changed = await owner.request("PATCH", `/api/notification-channels/${notificationChannelId}`, {
      name: "Hook 2",
      config: { signingSecret: { set: false } },
    });
    expect(changed.status).toBe(200);
    expect(changedColumns(before, row("notification_channels", notificationChannelId))).toEqual(["name"]);
  });
});

describe("S4: what responses give away", () => {
  /** Keys named like a secret that hold a value; objects and lists under such a name are checked in turn. */
  function secretKeys(value: unknown, at = ""): string[] {
    if (Array.isArray(value)) return value.flatMap((v, i) => secretKeys(v, `${at}[${i}]`));
    if (value === null || typeof value !== "object") return [];
    return Object.entries(value).flatMap(([key, v]) => {
      const here = at ? `${at}.${key}` : key;
      const holdsValue = v === null || typeof v !== "object";
      return [...(SECRET_KEY.test(key) && holdsValue ? [here] : []), ...secretKeys(v, here)];
    });
  }

  function allowedKeys(call: string): string[] {
    if (/^POST \/api\/tokens → 201$/.test(call)) return ["token"];
    if (/^POST \/api\/feeders(\/[^/]+\/credentials)? → 201$/.test(call)) return ["credentials.password"];
    return [];
  }

  it("takes only the level for the server's log level, and nothing that would outlast a restart", async () => {
    for (const extra of [{ configured: "trace" }, { persist: true }]) {
      const res = await owner.request("PUT", "/api/server/log-level", { level: "debug", ...extra });
      expect(res.status).toBe(400);
    }
    const res = await owner.request("PUT", "/api/server/log-level", { level: "info" });
    expect(res).toMatchObject({ status: 200, body: { level: "info", configured: expect.any(String) } });
    expect(Object.keys(res.body).sort()).toEqual(["configured", "level"]);
  });

  it("has covered every route the API documents with a JSON body (a new one must be added here)", async () => {
    const doc = await owner.request("GET", "/api/openapi.json");
    recorded.pop();
    const withBody = Object.entries(
      doc.body.paths as Record<string, Record<string, { requestBody?: { content?: object } }>>,
    ).flatMap(([p, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => op.requestBody?.content && "application/json" in op.requestBody.content)
        .map(([method]) => `${method.toUpperCase()} ${p}`),
    );
    expect(withBody.sort()).toEqual(
      [
        "POST /api/setup",
        "POST /api/session",
        "POST /api/tokens",
        "POST /api/users",
        "PATCH /api/users/{id}",
        "POST /api/users/me/password",
        "POST /api/feeders",
        "PATCH /api/feeders/{id}",
        "POST /api/devices/pending/{id}/adopt",
        "POST /api/feeders/{id}/feeds",
        "PUT /api/feeders/{id}/schedule",
        "PUT /api/feeders/{id}/schedule/pause",
        "POST /api/feeders/{id}/schedule/one-offs",
        "POST /api/pets",
        "PATCH /api/pets/{id}",
        "POST /api/notification-channels",
        "PATCH /api/notification-channels/{id}",
        "PUT /api/server/log-level",
      ].sort(),
    );
  });

  it("reads back every documented GET route after all of the above, for the scan below", async () => {
    const doc = await owner.request("GET", "/api/openapi.json");
    expect(doc.status).toBe(200);
    // The document itself describes secrets (that is its job); it is not a response about data.
    recorded.pop();
    type Op = { responses?: Record<string, { content?: Record<string, unknown> }> };
    // JSON answers only: GET /api/events is a stream that names what changed, never data (live-events.test.ts).
    const getPaths = Object.entries(doc.body.paths as Record<string, Record<string, Op>>)
      .filter(([, ops]) => ops.get?.responses?.["200"]?.content?.["application/json"] !== undefined)
      .map(([p]) => p);
    expect(getPaths.length).toBeGreaterThan(15);
    const feedId = (await owner.request("GET", `/api/feeders/${feederId}/feeds`)).body.feeds[0].id;
    const petId = (await owner.request("GET", "/api/pets")).body.pets[0].id;
    for (const p of getPaths) {
      const url = p
        .replace(/^\/api\/feeders\/\{id\}/, `/api/feeders/${feederId}`)
        .replace(/^\/api\/pets\/\{id\}/, `/api/pets/${petId}`)
        .replace("{feedId}", feedId)
        .replace(
          /^\/api\/notification-channels\/\{id\}/,
          `/api/notification-channels/${notificationChannelId}`,
        );
      const res = await owner.request("GET", url);
      expect(res.status, url).toBe(200);
    }
    // Member's view too: what a lower role is shown must not hold more.
    for (const p of ["/api/users", "/api/feeders", "/api/tokens", "/api/session", "/api/users/me/sessions"]) {
      expect((await member.request("GET", p)).status, p).toBe(200);
    }
  });

  it("names a secret only in the documented one-time answers, and shows each secret only there", () => {
    expect(recorded.length).toBeGreaterThan(40);
    const leaks: string[] = [];
    const known = [OWNER_PASSWORD, MEMBER_PASSWORD, MEMBER_NEW_PASSWORD, DEVICE_PASSWORD];
    for (const { call, body } of recorded) {
      const allowed = allowedKeys(call);
      for (const key of secretKeys(body)) if (!allowed.includes(key)) leaks.push(`${call}: key ${key}`);
      const text = JSON.stringify(body ?? null);
      for (const secret of known) if (text.includes(secret)) leaks.push(`${call}: a password`);
      for (const { value, at } of issued) {
        if (text.includes(value) && recorded[at]?.body !== body) {
          leaks.push(`${call}: a secret issued by ${recorded[at]?.call}`);
        }
      }
      if (/scrypt\$/.test(text)) leaks.push(`${call}: a password hash`);
    }
    expect(leaks).toEqual([]);
    // The one-time answers were really scanned, so the allowance is not what made the list empty.
    expect(recorded.filter((r) => allowedKeys(r.call).length > 0).length).toBeGreaterThanOrEqual(4);
  });
});
