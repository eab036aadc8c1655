/**
 * The HTTPS calls a Petnet SmartFeeder V2 makes before it connects to MQTT, answered in place of its dead
 * vendor cloud ("Kronos", api.arrowconnect.io; docs/devices/petnet-kronos-http.md): register the gateway,
 * fetch its MQTT password (apiKey), register the device behind it. Served on its own listener
 * (FEEDKEEPER_KRONOS_PORT), never on the owner's API: the feeder cannot sign in.
 *
 * The feeder keeps no secret of its own: it fetches its MQTT password here at every boot. The apiKey is an
 * HMAC of the gateway id under a secret kept by this server, so it is the same at every boot, and a
 * connecting feeder is still only held as pending until an owner adopts it.
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import { zValidator } from "@hono/zod-validator";
import { eq } from "drizzle-orm";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import type { PendingDevices } from "../../bridge/pending-devices.js";
import type { Logger } from "../../logger.js";
import { PETNET_MODELS, petnetDeviceHid } from "../../profiles/codecs/petnet-kronos.js";
import type { Store } from "../../store/db.js";
import { serverState } from "../../store/schema.js";

export const PETNET_PROFILE = "petnet-smartfeeder-v2";
const SECRET_KEY = "kronos_api_key_secret";
/** Gateways registered since the start, kept to answer their config; older ones register again at boot. */
const MAX_GATEWAYS = 100;
/** The secretKey the vendor answered with; it signs requests nobody checks (FeederNet answers it too). */
const SECRET_KEY_ANSWER = "gEhFrm2hRvW2Km47lgt9xRBCtT9uH2Lx77WxYliNGJI=";

const hidParam = z.object({ hid: z.string().regex(/^[0-9a-f]{40}$/, "a gateway hid is 40 hex digits") });

const gatewayRegistration = z.object({
  uid: z.string().min(1).max(128),
  softwareVersion: z.string().max(32).optional(),
});

const deviceRegistration = z.object({
  uid: z.string().min(1).max(128),
  gatewayHid: z.string().regex(/^[0-9a-f]{40}$/, "gatewayHid: 40 hex digits"),
});

/** Firmware below 2.5 speaks the older schedule commands (FeederNet's rule). */
export function petnetModelFor(softwareVersion: string | undefined): string {
  const [major = 0, minor = 0] = (softwareVersion ?? "")
    .split(".")
    .map((part) => Number.parseInt(part, 10) || 0);
  return major > 2 || (major === 2 && minor >= 5) ? PETNET_MODELS.modern : PETNET_MODELS.legacy;
}

function apiKeySecret(store: Store): string {
  const saved = store.db.select().from(serverState).where(eq(serverState.key, SECRET_KEY)).get();
  if (saved) return saved.value;
  const secret = randomBytes(32).toString("hex");
  store.db.insert(serverState).values({ key: SECRET_KEY, value: secret }).onConflictDoNothing().run();
  return store.db.select().from(serverState).where(eq(serverState.key, SECRET_KEY)).get()?.value ?? secret;
}

export function createKronosApp(deps: { store: Store; pending: PendingDevices; logger: Logger }) {
  const secret = apiKeySecret(deps.store);
  const apiKeyOf = (hid: string) => createHmac("sha256", secret).update(hid).digest("hex");
  const registered = new Set<string>();
  const log = deps.logger.child({ component: "kronos" });

  return (
    new Hono()
      .use(bodyLimit({ maxSize: 16 * 1024 }))
      .post("/api/v1/kronos/gateways", zValidator("json", gatewayRegistration), (c) => {
        const { uid, softwareVersion } = c.req.valid("json");
        // SHA-1 of the uid, as FeederNet: a feeder keeps its id when it moves from FeederNet.
        const hid = createHash("sha1").update(uid).digest("hex");
        if (registered.size >= MAX_GATEWAYS && !registered.has(hid)) {
          registered.delete(registered.values().next().value as string);
        }
        registered.add(hid);
        deps.pending.hint(PETNET_PROFILE, hid, petnetModelFor(softwareVersion));
        log.info({ hid, uid, softwareVersion }, "Petnet gateway registered");
        return c.json({ hid, links: {}, message: "OK" }, 200);
      })
      .get("/api/v1/kronos/gateways/:hid/config", zValidator("param", hidParam), (c) => {
        const { hid } = c.req.valid("param");
        if (!registered.has(hid)) return c.json({ detail: `Unregistered Gateway (${hid})` }, 400);
        return c.json(
          { cloudPlatform: "IoTConnect", key: { apiKey: apiKeyOf(hid), secretKey: SECRET_KEY_ANSWER } },
          200,
        );
      })
      .post("/api/v1/kronos/devices", zValidator("json", deviceRegistration), (c) => {
        const { gatewayHid } = c.req.valid("json");
        // The server chooses the device hid; the codec works out the same one from the gateway hid.
        const hid = petnetDeviceHid(gatewayHid);
        return c.json(
          { hid, links: {}, message: "device is already registered", pri: `arw:krn:dev:${hid}` },
          200,
        );
      })
      .put("/api/v1/kronos/gateways/:hid/checkin", zValidator("param", hidParam), (c) => {
        registered.add(c.req.valid("param").hid);
        return c.json(null, 200);
      })
      .put("/api/v1/kronos/gateways/:hid/heartbeat", (c) => c.json(null, 200))
      // Later SDKs repeat a command's answer here when its MQTT ack is late; the MQTT copy is what counts.
      .put("/api/v1/core/events/:hid/:state", (c) => {
        log.debug({ hid: c.req.param("hid"), state: c.req.param("state") }, "command answer over HTTPS");
        return c.json(null, 200);
      })
      .notFound((c) => c.json({ detail: "Not Found" }, 404))
  );
}
