/**
 * GET /api/events, the live UI's stream, against the real server with a simulated feeder: it opens with
 * `ready`, then says which feeder changed as a feed goes pending → sent → accepted → dispensed and as the
 * feeder goes offline, and that the feeder list and alerts changed; it names ids only, never data. It is
 * the caller's household's only, needs a sign-in, is limited per user, and does not hold up a shutdown.
 */
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Running } from "../../server/src/main.js";
import { SimulatedFeeder } from "../../server/src/sim/native-feeder.js";
import type { TestApi } from "../helpers/api.js";
import { bootInProcess } from "../helpers/in-process.js";
import { makeDataDir } from "../helpers/server.js";

interface SseEvent {
  event: string;
  data: string;
}

/** An open stream, its events as they arrive. */
async function openStream(baseUrl: string, token: string | undefined) {
  const ctrl = new AbortController();
  const res = await fetch(`${baseUrl}/api/events`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    signal: ctrl.signal,
  });
  const events: SseEvent[] = [];
  const reading = (async () => {
    if (!res.body || res.status !== 200) return;
    const decoder = new TextDecoder();
    const reader = res.body.getReader();
    let buffer = "";
    try {
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        buffer += decoder.decode(read.value, { stream: true });
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const field = (name: string) =>
            block
              .split("\n")
              .filter((l) => l.startsWith(`${name}:`))
              .map((l) => l.slice(name.length + 1).trim())
              .join("\n");
          if (field("event") || field("data")) events.push({ event: field("event"), data: field("data") });
          end = buffer.indexOf("\n\n");
        }
      }
    } catch {
      // Aborted by the test, or the server went away.
    }
  })();
  return {
    status: res.status,
    events,
    /** Every change named in the stream so far. */
    changes: () =>
      events
        .filter((e) => e.event === "change")
        .flatMap((e) => JSON.parse(e.data) as Array<Record<string, string>>),
    close: async () => {
      ctrl.abort();
      await reading;
    },
  };
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

let dataDir: string;
let server: Running;
let owner: TestApi;
let baseUrl: string;
const feeders: SimulatedFeeder[] = [];

beforeAll(async () => {
  dataDir = makeDataDir();
  ({ server, api: owner } = await bootInProcess({ dataDir }));
  await owner.setupOwner();
  baseUrl = `http://127.0.0.1:${server.httpPort}`;
});

afterAll(async () => {
  for (const f of feeders) await f.stop().catch(() => undefined);
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("GET /api/events", () => {
  it("names the feeder as a feed goes to dispensed and as it goes offline; ids only", async () => {
    const stream = await openStream(baseUrl, owner.token);
    expect(stream.status).toBe(200);
    await until(() => stream.events.some((e) => e.event === "ready"));

    const { feeder, credentials } = await owner.createFeeder("Kitchen", { minFeedIntervalSeconds: 0 });
    await until(() => stream.changes().some((c) => c.kind === "feeders"));
    const sim = new SimulatedFeeder({
      url: `mqtt://127.0.0.1:${server.mqttPort}`,
      id: feeder.id,
      password: credentials.password,
      dispenseMsPerPortion: 20,
    });
    feeders.push(sim);
    await sim.start();
    await until(() => stream.changes().some((c) => c.kind === "feeder" && c.feederId === feeder.id));

    const before = stream.events.length;
    const res = await owner.feed(feeder.id, { portions: 1 });
    expect(res.status).toBe(202);
    const feedId = res.body.feed.id;
    // The stream names the feeder; fetching it shows the feed's outcome.
    await until(() => stream.events.length > before);
    let status = "";
    await until(() => {
      void owner.request("GET", `/api/feeds/${feedId}`).then((r) => {
        status = r.body.feed.status;
      });
      return status === "dispensed";
    });
    await until(() => stream.events.length >= before + 2);
    for (const e of stream.events.slice(before)) {
      expect(e.event).toBe("change");
      for (const change of JSON.parse(e.data) as Array<Record<string, unknown>>) {
        // What to fetch again, never the data itself.
        expect(Object.keys(change).sort()).toEqual(
          change.kind === "feeder" ? ["feederId", "kind"] : ["kind"],
        );
      }
    }

    const offline = stream.events.length;
    await sim.stop();
    await until(() => stream.events.slice(offline).some((e) => e.data.includes(`"feederId":"${feeder.id}"`)));
    await stream.close();
  });

  it("tells the other users of the household, whatever their role", async () => {
    const other = await owner.request<{ user: { id: string } }>("POST", "/api/users", {
      username: "member.m",
      password: "a long enough password",
      role: "member",
    });
    expect(other.status).toBe(201);
    const member = await owner.signInAs("member.m", "a long enough password");
    const mine = await openStream(baseUrl, member.token);
    await until(() => mine.events.some((e) => e.event === "ready"));
    const { feeder } = await owner.createFeeder("Hall");
    // Same household: the member hears of the new feeder and of a change to it.
    await until(() => mine.changes().some((c) => c.kind === "feeders"));
    await owner.request("PATCH", `/api/feeders/${feeder.id}`, { name: "Hallway" });
    await until(() => mine.changes().some((c) => c.feederId === feeder.id));
    await mine.close();
  });

  it("needs a sign-in, allows 10 streams per user, and never holds up a shutdown", async () => {
    expect((await openStream(baseUrl, undefined)).status).toBe(401);
    expect((await openStream(baseUrl, "fkt_not-a-token")).status).toBe(401);

    const streams = await Promise.all(Array.from({ length: 10 }, () => openStream(baseUrl, owner.token)));
    expect(streams.map((s) => s.status)).toEqual(Array(10).fill(200));
    const eleventh = await openStream(baseUrl, owner.token);
    expect(eleventh.status).toBe(429);
    // A closed tab frees its place at once.
    await streams[0]?.close();
    await new Promise((r) => setTimeout(r, 200));
    const again = await openStream(baseUrl, owner.token);
    expect(again.status).toBe(200);

    // The server stops although every stream is still open (the heartbeat is 25 s away).
    const stopped = await Promise.race([
      server.stop().then(() => "stopped"),
      new Promise((r) => setTimeout(() => r("still running after 5 s"), 5000)),
    ]);
    expect(stopped).toBe("stopped");
    for (const s of [...streams.slice(1), again]) await s.close();
  });
});
