/**
 * Notifications through the whole server: a real alert (a planned meal nobody dispensed, on the fake
 * clock) reaches an ntfy server, webhooks and a mailbox, all fakes of our own on 127.0.0.1. A receiver
 * that fails gets the alert again after the backoff, across a restart; quiet hours hold a delivery until
 * they end; targets the server must never contact are refused with a clear error.
 */
import fs from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Running } from "../../server/src/main.js";
import { verifyWebhook } from "../../server/src/notify/webhook.js";
import { FakeClock } from "../../server/src/testing/fake-clock.js";
import { TestApi } from "../helpers/api.js";
import { FakeHttpReceiver } from "../helpers/fake-http.js";
import { FakeSmtpServer } from "../helpers/fake-smtp.js";
import { bootInProcess } from "../helpers/in-process.js";
import { makeDataDir } from "../helpers/server.js";
import { until } from "../helpers/until.js";

const ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const SIGNING_SECRET = "webhook signing secret 1";
const NTFY_TOKEN = "tk_ntfy_token_for_tests";
const SMTP = { user: "feedkeeper", pass: "smtp password 1" };
const mins = (n: number) => n * 60_000;

let clock: FakeClock;
let dataDir: string;
let server: Running;
let api: TestApi;
let receiver: FakeHttpReceiver;
let smtp: FakeSmtpServer;
let feederId: string;
let mqttPort = 0;

/** HH:MM on the server's wall clock (it reads quiet hours in its own zone). */
function serverHHMM(at: number): string {
  return new Intl.DateTimeFormat("en-GB", {
    timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(at);
}

/** Moves the fake clock in steps, giving the server a moment after each. */
async function advance(ms: number, step = 15_000) {
  for (let done = 0; done < ms; done += step) {
    clock.advance(Math.min(step, ms - done));
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The one request a path got, once it got it. */
function onlyOne(path: string) {
  const got = receiver.to(path);
  return got.length === 1 ? got : undefined;
}

async function boot(): Promise<void> {
  const booted = await bootInProcess({ dataDir, clock, mqttPort });
  server = booted.server;
  mqttPort = server.mqttPort;
  api.baseUrl = booted.api.baseUrl;
}

async function addChannel(body: Record<string, unknown>): Promise<string> {
  const res = await api.request("POST", "/api/notification-channels", body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.channel.id;
}

async function channel(id: string) {
  const res = await api.request("GET", "/api/notification-channels");
  return res.body.channels.find((c: { id: string }) => c.id === id);
}

async function deliveries(id: string) {
  return (await api.request("GET", `/api/notification-channels/${id}/deliveries`)).body.deliveries;
}

beforeEach(async () => {
  clock = new FakeClock(Date.parse("2026-11-26T06:29:00Z"));
  dataDir = makeDataDir();
  mqttPort = 0;
  receiver = new FakeHttpReceiver();
  await receiver.start();
  smtp = new FakeSmtpServer(SMTP);
  await smtp.start();
  api = new TestApi("");
  await boot();
  await api.setupOwner();
  feederId = (await api.createFeeder("Kitchen")).feeder.id;
  const put = await api.request("PUT", `/api/feeders/${feederId}/schedule`, {
    timezone: "Europe/Berlin",
    meals: [{ id: "breakfast", time: "07:30", days: ALL_DAYS, portions: 2, label: "Breakfast" }],
  });
  expect(put.status).toBe(200);
});

afterEach(async () => {
  await server.stop();
  await receiver.stop();
  await smtp.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("alerts sent as notifications", () => {
  it("reaches ntfy, a signed webhook and e-mail; retries a failing receiver across a restart; holds in quiet hours", async () => {
    const ntfy = await addChannel({
      name: "Phone",
      type: "ntfy",
      language: "ja",
      config: { serverUrl: `${receiver.url}/ntfy/`, topic: "cat-food", token: NTFY_TOKEN },
    });
    const hook = await addChannel({
      name: "Home Assistant",
      type: "webhook",
      config: { url: `${receiver.url}/hook`, signingSecret: SIGNING_SECRET },
    });
    await addChannel({
      name: "Mail",
      type: "email",
      config: {
        host: "127.0.0.1",
        port: smtp.port,
        security: "none",
        username: SMTP.user,
        password: SMTP.pass,
        from: "feedkeeper@home.example",
        to: ["owner@home.example", "partner@home.example"],
      },
    });
    const flaky = await addChannel({
      name: "Flaky",
      type: "webhook",
      kinds: ["meal_missed"],
      config: { url: `${receiver.url}/flaky` },
    });
    receiver.failNext("/flaky", 500, 503);
    const quietEnd = clock.now() + mins(60);
    const quiet = await addChannel({
      name: "Night",
      type: "webhook",
      quietHours: { start: serverHHMM(clock.now() - mins(30)), end: serverHHMM(quietEnd) },
      config: { url: `${receiver.url}/quiet` },
    });
    await addChannel({
      name: "Off",
      type: "webhook",
      enabled: false,
      config: { url: `${receiver.url}/off` },
    });
    await addChannel({
      name: "Food only",
      type: "webhook",
      kinds: ["food_low"],
      config: { url: `${receiver.url}/food` },
    });

    // 07:29 → the breakfast at 07:30 is not dispensed (no device): a missed-meal alert within minutes.
    let alert: { id: string; kind: string; createdAt: string } | undefined;
    for (let i = 0; i < 40 && !alert; i++) {
      await advance(15_000);
      alert = (await api.request("GET", "/api/alerts")).body.alerts[0];
    }
    expect(alert?.kind).toBe("meal_missed");

    // ntfy: topic URL, token, Japanese title as an RFC 2047 word, priority and tags.
    const [toNtfy] = await until("ntfy", () => onlyOne("/ntfy/cat-food"));
    expect(toNtfy?.method).toBe("POST");
    expect(toNtfy?.headers.authorization).toBe(`Bearer ${NTFY_TOKEN}`);
    const title = String(toNtfy?.headers.title);
    expect(title).toMatch(/^=\?UTF-8\?B\?/);
    expect(Buffer.from(title.slice(10, -2), "base64").toString("utf8")).toBe(
      "食事が与えられていません（Kitchen）",
    );
    expect(toNtfy?.headers.priority).toBe("4");
    expect(toNtfy?.headers.tags).toBe("warning,meal_missed");
    expect(toNtfy?.body).toMatch(/^Kitchenの予定の食事が与えられていません。\n発生日時: /);

    // Webhook: the JSON event, signed over the raw body with a timestamp.
    const [toHook] = await until("webhook", () => onlyOne("/hook"));
    const event = JSON.parse(toHook?.body ?? "{}");
    expect(event).toMatchObject({
      id: alert?.id,
      kind: "meal_missed",
      feeder: { id: feederId, name: "Kitchen" },
      occurrenceId: `${feederId}/2026-11-26/breakfast`,
      createdAt: alert?.createdAt,
      language: "en",
      title: "Meal missed: Kitchen",
      heldDuringQuietHours: false,
      test: false,
    });
    expect(event.message).toContain("not dispensed");
    const signed = {
      signature: toHook?.headers["x-feedkeeper-signature"] as string,
      timestamp: toHook?.headers["x-feedkeeper-timestamp"] as string,
    };
    expect(signed.signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyWebhook(SIGNING_SECRET, signed, toHook?.body ?? "", clock.now())).toBe(true);
    expect(verifyWebhook("wrong secret", signed, toHook?.body ?? "", clock.now())).toBe(false);

    // E-mail: signed in, to both recipients, English subject and text with the alert's detail.
    const mail = await until("e-mail", () => smtp.messages[0]);
    expect(mail).toMatchObject({
      from: "feedkeeper@home.example",
      to: ["owner@home.example", "partner@home.example"],
      user: SMTP.user,
      subject: "Meal missed: Kitchen",
    });
    expect(mail.text).toContain("A planned meal on Kitchen was not given.");
    expect(mail.text).toContain("not dispensed");

    // The failing receiver: its failure is visible on the channel and in its deliveries.
    await until("first failed try", () => receiver.to("/flaky").length === 1);
    const failing = await until("failure shown", async () => {
      const c = await channel(flaky);
      return c?.status.lastError ? c : undefined;
    });
    expect(failing.status.lastError).toMatch(/^127\.0\.0\.1:\d+ answered HTTP 500: receiver says 500\.$/);
    expect(failing.status.queued).toBe(1);
    const [retrying] = await deliveries(flaky);
    expect(retrying).toMatchObject({ status: "pending", attempts: 1, kind: "meal_missed" });
    const firstTry = Number(receiver.to("/flaky")[0]?.headers["x-feedkeeper-timestamp"]) * 1000;
    expect(Date.parse(retrying.nextAttemptAt) - firstTry).toBeGreaterThanOrEqual(30_000 - 1000);

    // The quiet channel got nothing; its delivery is held until the quiet hours end.
    const held = await until("held", async () => (await deliveries(quiet))[0]);
    expect(held).toMatchObject({ status: "held", heldDuringQuietHours: true });
    expect(Date.parse(held.nextAttemptAt)).toBe(Math.floor(quietEnd / 60_000) * 60_000);
    expect(receiver.to("/quiet")).toHaveLength(0);

    // A restart loses nothing queued.
    await server.stop();
    await boot();

    // Second try 30 s after the first fails again (503), the third 2 min later gets through.
    await advance(30_000);
    await until("second try", () => receiver.to("/flaky").length === 2);
    await until("second failure recorded", async () => (await deliveries(flaky))[0].attempts === 2);
    await advance(mins(2));
    await until("third try", () => receiver.to("/flaky").length === 3);
    const delivered = await until("sent", async () => {
      const [d] = await deliveries(flaky);
      return d.status === "sent" ? d : undefined;
    });
    expect(delivered).toMatchObject({ attempts: 3, lastError: null });
    const tries = receiver.to("/flaky").map((r) => Number(r.headers["x-feedkeeper-timestamp"]));
    expect((tries[1] as number) - (tries[0] as number)).toBeGreaterThanOrEqual(30);
    expect((tries[2] as number) - (tries[1] as number)).toBeGreaterThanOrEqual(120);
    const recovered = await channel(flaky);
    expect(recovered.status.lastSuccessAt).not.toBeNull();
    expect(recovered.status.lastError).toContain("HTTP 503");
    expect(recovered.status.queued).toBe(0);

    // Quiet hours end: the held alert goes out, saying it was held.
    await advance(quietEnd - clock.now() + 15_000);
    const [fromQuiet] = await until("held delivery", () => onlyOne("/quiet"));
    const heldEvent = JSON.parse(fromQuiet?.body ?? "{}");
    expect(heldEvent.heldDuringQuietHours).toBe(true);
    expect(heldEvent.text).toContain("Held during quiet hours; sent when they ended.");
    expect((await deliveries(quiet))[0]).toMatchObject({ status: "sent", attempts: 1 });

    // Each alert went once to each channel; the disabled one and the one for other kinds got nothing.
    expect(receiver.to("/hook")).toHaveLength(1);
    expect(receiver.to("/ntfy/cat-food")).toHaveLength(1);
    expect(smtp.messages).toHaveLength(1);
    expect(receiver.to("/off")).toHaveLength(0);
    expect(receiver.to("/food")).toHaveLength(0);
    expect((await channel(ntfy)).status.lastSuccessAt).not.toBeNull();
    expect((await channel(hook)).status.lastError).toBeNull();
  });
});

describe("channel settings", () => {
  it("sends a test message now and says why one failed", async () => {
    const hook = await addChannel({
      name: "Hook",
      type: "webhook",
      config: { url: `${receiver.url}/test-hook` },
    });
    const ok = await api.request("POST", `/api/notification-channels/${hook}/test`);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ ok: true, error: null });
    expect(JSON.parse(receiver.to("/test-hook")[0]?.body ?? "{}")).toMatchObject({
      kind: "test",
      test: true,
      feeder: null,
    });

    const mail = await addChannel({
      name: "Mail",
      type: "email",
      language: "ja",
      config: {
        host: "127.0.0.1",
        port: smtp.port,
        security: "none",
        username: SMTP.user,
        password: "wrong",
        from: "a@b.example",
        to: ["c@d.example"],
      },
    });
    const refused = await api.request("POST", `/api/notification-channels/${mail}/test`);
    expect(refused.body).toMatchObject({ ok: false, sentAt: null });
    expect(refused.body.error).toMatch(/^The mail server 127\.0\.0\.1 refused the user name or password\./);
    expect((await channel(mail)).status.lastError).toBe(refused.body.error);

    // The right password, kept secret: the answer says only that one is set.
    const fixed = await api.request("PATCH", `/api/notification-channels/${mail}`, {
      config: { password: SMTP.pass },
    });
    expect(fixed.body.channel.config).toMatchObject({ password: { set: true }, host: "127.0.0.1" });
    expect(JSON.stringify(fixed.body)).not.toContain(SMTP.pass);
    expect((await api.request("POST", `/api/notification-channels/${mail}/test`)).body.ok).toBe(true);
    expect(smtp.messages[0]?.subject).toMatch(/^=\?UTF-8\?/); // Japanese subject, encoded
    expect(smtp.messages[0]?.text).toContain("通知チャンネル「Mail」のテストメッセージです");

    const closed = await addChannel({
      name: "Closed",
      type: "ntfy",
      config: { serverUrl: "http://127.0.0.1:9", topic: "x" },
    });
    const unreachable = await api.request("POST", `/api/notification-channels/${closed}/test`);
    expect(unreachable.body.error).toBe(
      "127.0.0.1:9 refused the connection (is the service running, and is the port right?).",
    );
  });

  it("keeps secrets write-only: never returned, kept when sent back as read, removed with null", async () => {
    const id = await addChannel({
      name: "Phone",
      type: "ntfy",
      config: { serverUrl: receiver.url, topic: "t1", token: NTFY_TOKEN },
    });
    const listed = await api.request("GET", "/api/notification-channels");
    expect(JSON.stringify(listed.body)).not.toContain(NTFY_TOKEN);
    const read = listed.body.channels[0];
    expect(read.config).toEqual({ serverUrl: receiver.url, topic: "t1", token: { set: true } });
    // What was read, sent back with one change: the token stays.
    const patched = await api.request("PATCH", `/api/notification-channels/${id}`, {
      config: { ...read.config, topic: "t2" },
      kinds: ["fault", "fault", "food_low"],
    });
    expect(patched.status).toBe(200);
    expect(patched.body.channel.kinds).toEqual(["food_low", "fault"]);
    await api.request("POST", `/api/notification-channels/${id}/test`);
    expect(receiver.to("/t2")[0]?.headers.authorization).toBe(`Bearer ${NTFY_TOKEN}`);
    const cleared = await api.request("PATCH", `/api/notification-channels/${id}`, {
      config: { token: null },
    });
    expect(cleared.body.channel.config.token).toEqual({ set: false });
    await api.request("POST", `/api/notification-channels/${id}/test`);
    expect(receiver.to("/t2")[1]?.headers.authorization).toBeUndefined();

    const del = await api.request("DELETE", `/api/notification-channels/${id}`);
    expect(del.status).toBe(204);
    expect((await api.request("GET", `/api/notification-channels/${id}/deliveries`)).body.error.code).toBe(
      "notification_channel_not_found",
    );
  });

  it("refuses link-local and cloud metadata targets, and bad settings, with clear errors", async () => {
    const refused = async (body: Record<string, unknown>) => {
      const res = await api.request("POST", "/api/notification-channels", body);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error.code).toBe("validation_failed");
      return res.body.error.message as string;
    };
    expect(
      await refused({
        name: "x",
        type: "webhook",
        config: { url: "http://169.254.169.254/latest/meta-data/" },
      }),
    ).toBe(
      "config.url: The URL points to 169.254.169.254, a cloud instance metadata service. The server never connects there.",
    );
    expect(await refused({ name: "x", type: "webhook", config: { url: "http://169.254.10.1/hook" } })).toBe(
      "config.url: The address 169.254.10.1 is a link-local address. The server never sends notifications there.",
    );
    expect(
      await refused({ name: "x", type: "ntfy", config: { serverUrl: "http://[fe80::1]/", topic: "t" } }),
    ).toContain("link-local");
    expect(
      await refused({
        name: "x",
        type: "email",
        config: {
          host: "169.254.169.254",
          port: 25,
          security: "none",
          from: "a@b.example",
          to: ["c@d.example"],
        },
      }),
    ).toContain("cloud instance metadata service");
    expect(await refused({ name: "x", type: "webhook", config: { url: "file:///etc/passwd" } })).toContain(
      "Only http:// and https:// URLs are allowed",
    );
    expect(
      await refused({
        name: "x",
        type: "webhook",
        quietHours: { start: "22:00", end: "22:00" },
        config: { url: receiver.url },
      }),
    ).toContain("must not start and end at the same time");
    expect(
      await refused({ name: "x", type: "webhook", kinds: ["meal_eaten"], config: { url: receiver.url } }),
    ).toContain("kinds");
    // A PATCH is checked by the channel's own type.
    const id = await addChannel({ name: "Hook", type: "webhook", config: { url: receiver.url } });
    const patch = await api.request("PATCH", `/api/notification-channels/${id}`, {
      config: { url: "http://169.254.169.254/" },
    });
    expect(patch.status).toBe(400);
    expect(patch.body.error.message).toContain("config.url: The URL points to 169.254.169.254");
    const wrongType = await api.request("PATCH", `/api/notification-channels/${id}`, {
      config: { topic: "t" },
    });
    expect(wrongType.status).toBe(400);
  });
});
