import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, redactUrl } from "./config.js";

describe("loadConfig", () => {
  it("has working defaults with an empty environment", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ httpPort: 8080, mqttPort: 1883, bind: "0.0.0.0", logLevel: "info" });
    expect(config.dataDir).toMatch(/data$/);
    expect(config.mqttMaxPacketBytes).toBe(65536);
  });

  it("treats empty values as unset", () => {
    expect(loadConfig({ FEEDKEEPER_HTTP_PORT: "" }).httpPort).toBe(8080);
  });

  it("names every bad variable and what it accepts", () => {
    try {
      loadConfig({ FEEDKEEPER_HTTP_PORT: "http", FEEDKEEPER_LOG_LEVEL: "verbose" });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const message = (err as Error).message;
      expect(message).toContain('FEEDKEEPER_HTTP_PORT="http": must be a number');
      expect(message).toContain('FEEDKEEPER_LOG_LEVEL="verbose"');
      expect(message).toContain("debug");
    }
  });

  it("checks values against each other", () => {
    expect(() => loadConfig({ FEEDKEEPER_HTTP_PORT: "1883" })).toThrow(/must differ/);
    expect(() =>
      loadConfig({ FEEDKEEPER_FEED_EXPIRY_SECONDS: "600", FEEDKEEPER_FEED_MAX_EXPIRY_SECONDS: "300" }),
    ).toThrow(/must not exceed/);
  });

  it("reads an external broker only from a broker URL, and never logs its password", () => {
    expect(loadConfig({}).externalBroker).toBeUndefined();
    expect(
      loadConfig({ FEEDKEEPER_MQTT_URL: "mqtts://ha.lan:8883", FEEDKEEPER_MQTT_USERNAME: "fk" })
        .externalBroker,
    ).toEqual({
      url: "mqtts://ha.lan:8883",
      username: "fk",
      password: undefined,
      caFile: undefined,
      clientId: "feedkeeper",
    });
    expect(() => loadConfig({ FEEDKEEPER_MQTT_URL: "http://ha.lan" })).toThrow(
      'FEEDKEEPER_MQTT_URL="http://ha.lan": must be a broker URL',
    );
    expect(() => loadConfig({ FEEDKEEPER_MQTT_PASSWORD: "x" })).toThrow(
      "FEEDKEEPER_MQTT_PASSWORD: needs FEEDKEEPER_MQTT_URL",
    );
    expect(() =>
      loadConfig({ FEEDKEEPER_MQTT_URL: "mqtt://h", FEEDKEEPER_MQTT_CA_FILE: "/nope.pem" }),
    ).toThrow('FEEDKEEPER_MQTT_CA_FILE="/nope.pem": no such file');
    expect(redactUrl("mqtt://fk:s3cret@ha.lan:1883")).toBe("mqtt://fk:***@ha.lan:1883");
  });

  it("gives each TLS listener its own port and takes certificates only for them", () => {
    expect(() => loadConfig({ FEEDKEEPER_MQTTS_PORT: "1883" })).toThrow(
      "FEEDKEEPER_MQTTS_PORT=1883: must differ from FEEDKEEPER_MQTT_PORT",
    );
    expect(() => loadConfig({ FEEDKEEPER_MQTTS_PORT: "8883", FEEDKEEPER_KRONOS_PORT: "8883" })).toThrow(
      "FEEDKEEPER_KRONOS_PORT=8883: must differ from FEEDKEEPER_MQTTS_PORT",
    );
    expect(() =>
      loadConfig({ FEEDKEEPER_TLS_CERT: "/etc/hostname", FEEDKEEPER_TLS_KEY: "/etc/hostname" }),
    ).toThrow("FEEDKEEPER_TLS_CERT: needs FEEDKEEPER_MQTTS_PORT or FEEDKEEPER_KRONOS_PORT");
    expect(loadConfig({ FEEDKEEPER_KRONOS_PORT: "443" })).toMatchObject({
      kronosPort: 443,
      mqttsPort: undefined,
      tls: { hostnames: ["localhost"] },
    });
  });
});
