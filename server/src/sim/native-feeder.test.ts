/**
 * The native feeder simulator against Feedkeeper's embedded broker, which hands the test what the server
 * would get. One rule of the broker is lifted so the feeder's own guards are what is tested: it passes on a
 * retained command, which Feedkeeper's never does.
 */
import net from "node:net";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { mayDeliverToFeeder } from "../broker/acl.js";
import { type FeedCommandPayload, type FeedReportPayload, topics } from "../protocol/native-v1.js";
import { type SimBroker, started, startSimBroker } from "../testing/sim-broker.js";
import { ConnectionRefusedError, SimulatedFeeder, type SimulatedFeederOptions } from "./native-feeder.js";

const FEEDER_ID = "feeder-1";
const PASSWORD = "s3cret";
const MS_PER_PORTION = 5;

let broker: SimBroker;
let reports: FeedReportPayload[];

beforeEach(async () => {
  reports = [];
  broker = await startSimBroker({
    admit: { feeder: FEEDER_ID, password: PASSWORD },
    hooks: { mayDeliver: (_session, topic) => mayDeliverToFeeder(FEEDER_ID, topic, false) },
    onMessage: (topic, payload) => {
      if (topic === topics.feed(FEEDER_ID)) reports.push(JSON.parse(payload.toString()));
    },
  });
});

afterEach(() => broker.close());

function feeder(options: Partial<SimulatedFeederOptions> = {}): SimulatedFeeder {
  return broker.track(
    new SimulatedFeeder({
      url: broker.url,
      id: FEEDER_ID,
      password: PASSWORD,
      dispenseMsPerPortion: MS_PER_PORTION,
      ...options,
    }),
  );
}

const startedFeeder = (options: Partial<SimulatedFeederOptions> = {}) => started(feeder(options));

function command(id: string, portions = 2, expiresInMs = 60_000): FeedCommandPayload {
  return { id, portions, expiresAt: new Date(Date.now() + expiresInMs).toISOString() };
}

async function sendCommand(payload: FeedCommandPayload | string, retain = false): Promise<void> {
  const body = typeof payload === "string" ? payload : JSON.stringify(payload);
  await broker.publish(topics.commandFeed(FEEDER_ID), body, { qos: 1, retain });
}

function reportsFor(id: string): Pick<FeedReportPayload, "status" | "error" | "grams">[] {
  return reports.filter((r) => r.id === id).map(({ status, error, grams }) => ({ status, error, grams }));
}

/** Commands are handled in order, so once a later command is dispensed every earlier one has been handled. */
async function expectDispensed(id: string): Promise<void> {
  await vi.waitFor(() => expect(reports.some((r) => r.id === id && r.status === "dispensed")).toBe(true));
}

describe("SimulatedFeeder", () => {
  it("announces itself after subscribing", async () => {
    await startedFeeder({ model: "acme-1", firmware: "2.3.4", portionGrams: 8 });

    await vi.waitFor(() => expect(broker.payloadsOn(topics.hello(FEEDER_ID))).toHaveLength(1));
    expect(broker.timeline.slice(0, 3)).toEqual([
      `connected ${FEEDER_ID}`,
      `subscribed ${FEEDER_ID}`,
      `${topics.status(FEEDER_ID)} online`,
    ]);
    const hello = JSON.parse(broker.payloadsOn(topics.hello(FEEDER_ID))[0] ?? "");
    expect(hello).toEqual({
      protocol: 1,
      model: "acme-1",
      firmware: "2.3.4",
      capabilities: ["feed"],
      portionGrams: 8,
      time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
  });

  it("reports accepted, then dispensed with grams", async () => {
    const sim = await startedFeeder({ portionGrams: 12 });

    await sendCommand(command("c1", 3));

    await expectDispensed("c1");
    expect(reportsFor("c1")).toEqual([
      { status: "accepted", error: undefined, grams: undefined },
      { status: "dispensed", error: undefined, grams: 36 },
    ]);
    expect(reports.every((r) => r.source === "remote" && r.portions === 3)).toBe(true);
    expect(sim.dispensed).toMatchObject([{ id: "c1", portions: 3, source: "remote", grams: 36 }]);
    expect(sim.commandsReceived.map((c) => c.command.id)).toEqual(["c1"]);
  });

  it("executes a redelivered command id only once", async () => {
    const sim = await startedFeeder();

    await sendCommand(command("dup"));
    await sendCommand(command("dup"));
    await sendCommand(command("after"));

    await expectDispensed("after");
    expect(reportsFor("dup").map((r) => r.status)).toEqual(["accepted", "dispensed"]);
    expect(sim.dispensed.map((m) => m.id)).toEqual(["dup", "after"]);
    expect(sim.commandsReceived).toHaveLength(3);
  });

  it("rejects an expired command without dispensing", async () => {
    const sim = await startedFeeder();
    const rejected = vi.fn();
    sim.on("rejected", rejected);

    await sendCommand(command("late", 1, -1000));

    await vi.waitFor(() => expect(reportsFor("late")).toEqual([{ status: "rejected", error: "expired" }]));
    expect(rejected).toHaveBeenCalledWith(expect.objectContaining({ id: "late", error: "expired" }));
    expect(sim.dispensed).toEqual([]);
  });

  it("judges expiry by its own clock", async () => {
    const inAnHour = new Date(Date.now() + 3_600_000);
    const sim = await startedFeeder({ now: () => inAnHour });

    await sendCommand(command("stale", 1, 60_000));

    await vi.waitFor(() => expect(reportsFor("stale").map((r) => r.status)).toEqual(["rejected"]));
    expect(reports[0]?.at).toBe(inAnHour.toISOString());
    expect(sim.dispensed).toEqual([]);
  });

  it("reports a jam as accepted, then failed", async () => {
    const sim = await startedFeeder({ jammed: true });

    await sendCommand(command("j1"));

    await vi.waitFor(() => expect(reportsFor("j1").map((r) => r.status)).toEqual(["accepted", "failed"]));
    expect(reportsFor("j1")[1]?.error).toBe("jam");
    expect(sim.dispensed).toEqual([]);

    sim.setJammed(false);
    await sendCommand(command("j2"));
    await expectDispensed("j2");
  });

  it("reports button meals with their own unique ids", async () => {
    const sim = await startedFeeder();

    const first = await sim.pressButton(1);
    const second = await sim.pressButton(2);

    expect(first).not.toBe(second);
    await vi.waitFor(() => expect(reports).toHaveLength(2));
    expect(reports).toMatchObject([
      { id: first, status: "dispensed", source: "button", portions: 1, grams: 10 },
      { id: second, status: "dispensed", source: "button", portions: 2, grams: 20 },
    ]);
    expect(sim.dispensed.map((m) => m.source)).toEqual(["button", "button"]);
  });

  it("ignores a command delivered as retained", async () => {
    await sendCommand(command("retained"), true);
    const sim = await startedFeeder();

    await sendCommand(command("live"));

    await expectDispensed("live");
    expect(reportsFor("retained")).toEqual([]);
    expect(sim.dispensed.map((m) => m.id)).toEqual(["live"]);
  });

  it("ignores malformed commands and keeps working", async () => {
    const sim = await startedFeeder();

    await sendCommand("{not json");
    await sendCommand(JSON.stringify({ id: "no-portions", expiresAt: new Date().toISOString() }));
    await sendCommand(command("ok"));

    await expectDispensed("ok");
    expect(sim.dispensed.map((m) => m.id)).toEqual(["ok"]);
    expect(sim.commandsReceived.map((c) => c.command.id)).toEqual(["ok"]);
  });

  it("leaves the broker to publish its will when killed", async () => {
    const sim = await startedFeeder();
    const statuses = () => broker.payloadsOn(topics.status(FEEDER_ID));
    await vi.waitFor(() => expect(statuses()).toEqual(["online"]));

    sim.kill();

    await vi.waitFor(() => expect(statuses()).toEqual(["online", "offline"]));
  });

  it("says offline itself when stopped gracefully, so no will fires", async () => {
    const sim = await startedFeeder();
    const statuses = () => broker.payloadsOn(topics.status(FEEDER_ID));
    await vi.waitFor(() => expect(statuses()).toEqual(["online"]));

    await sim.stop();

    // The broker hands over a will before it reports the disconnection.
    await vi.waitFor(() => expect(broker.timeline).toContain(`disconnected ${FEEDER_ID}`));
    expect(statuses()).toEqual(["online", "offline"]);
  });

  it("settles start() when stopped before the broker answered", async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const sim = feeder({ url: `mqtt://127.0.0.1:${(silent.address() as net.AddressInfo).port}` });
    const started = sim.start();

    await sim.stop();

    await expect(started).rejects.toThrow("stopped before it was ready");
    silent.close();
  });

  it("fails to start with refused credentials instead of retrying", async () => {
    const sim = feeder({ password: "wrong" });

    const error = await sim.start().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConnectionRefusedError);
    expect((error as ConnectionRefusedError).returnCode).toBe(4);
    expect(sim.connected).toBe(false);
  });
});
