/**
 * MQTT over TLS on the embedded broker (FEEDKEEPER_MQTTS_PORT), for firmware that only speaks TLS: a
 * certificate made once and kept in the data directory, so a device that trusts or pins it keeps working
 * after a restart; the same credentials and ACL as plain MQTT.
 */
import { X509Certificate } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import mqtt from "mqtt";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Running } from "../../server/src/main.js";
import type { TestApi } from "../helpers/api.js";
import { bootInProcess } from "../helpers/in-process.js";
import { makeDataDir } from "../helpers/server.js";

let dataDir: string;
let server: Running;
let api: TestApi;

const boot = async () => {
  ({ server, api } = await bootInProcess({
    dataDir,
    env: { FEEDKEEPER_MQTTS_PORT: "0", FEEDKEEPER_TLS_HOSTNAMES: "localhost,feedkeeper.lan" },
  }));
};

beforeEach(async () => {
  dataDir = makeDataDir();
  await boot();
  await api.setupOwner();
});

afterEach(async () => {
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const certFile = () => path.join(dataDir, "tls", "mqtts-cert.pem");

describe("MQTT over TLS", () => {
  it("serves feeders over TLS with a certificate that survives a restart", async () => {
    const cert = fs.readFileSync(certFile(), "utf8");
    expect(new X509Certificate(cert).subjectAltName).toBe("DNS:localhost, DNS:feedkeeper.lan");
    expect(fs.statSync(path.join(dataDir, "tls", "mqtts-key.pem")).mode & 0o777).toBe(0o600);

    const { feeder, credentials } = await api.createFeeder("TLS");
    const connectOnce = async () => {
      const client = await mqtt.connectAsync(`mqtts://localhost:${server.mqttsPort}`, {
        clientId: credentials.clientId,
        username: credentials.username,
        password: credentials.password,
        ca: fs.readFileSync(certFile()),
        reconnectPeriod: 0,
      });
      await client.publishAsync(
        `feedkeeper/${feeder.id}/hello`,
        JSON.stringify({ protocol: 1, model: "t", firmware: "1", capabilities: ["feed"] }),
        { qos: 1 },
      );
      await api.waitForFeeder(feeder.id, (f) => f.online);
      await client.endAsync();
    };
    await connectOnce();

    const token = api.token;
    await server.stop();
    await boot();
    api.token = token;
    expect(fs.readFileSync(certFile(), "utf8")).toBe(cert);
    await connectOnce();
  });

  it("refuses a device that does not trust the certificate, and still the wrong credentials over TLS", async () => {
    await expect(
      mqtt.connectAsync(`mqtts://localhost:${server.mqttsPort}`, {
        reconnectPeriod: 0,
        connectTimeout: 2_000,
      }),
    ).rejects.toThrow(/self-signed|self signed/);
    await expect(
      mqtt.connectAsync(`mqtts://localhost:${server.mqttsPort}`, {
        ca: fs.readFileSync(certFile()),
        clientId: "nobody",
        username: "nobody",
        password: "wrong",
        reconnectPeriod: 0,
      }),
    ).rejects.toThrow(/Bad username or password|Not authorized/);
  });
});
