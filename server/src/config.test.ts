import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, redactUrl } from "./config.js";

describe("loadConfig", () => {
  it("has working defaults with an empty environment", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ httpPort: 8080, mqttPort: 1883, bind: "0.0.0.0", logLevel: "info" });
    expect(config.dataDir).toMatch(/data$/);
    expect(config.mqttMaxPacketBytes).toBe(65536);
  });

  it("schedules a local backup a day, keeping 7, unless told otherwise", () => {
    expect(loadConfig({}).backup).toEqual({ intervalHours: 24, keep: 7 });
    expect(
      loadConfig({ FEEDKEEPER_BACKUP_INTERVAL_HOURS: "0", FEEDKEEPER_BACKUP_KEEP: "30" }).backup,
    ).toEqual({ intervalHours: 0, keep: 30 });
    expect(() => loadConfig({ FEEDKEEPER_BACKUP_KEEP: "0" })).toThrow(
      'FEEDKEEPER_BACKUP_KEEP="0": must be at least 1',
    );
    expect(() => loadConfig({ FEEDKEEPER_BACKUP_INTERVAL_HOURS: "1.5" })).toThrow(
      "FEEDKEEPER_BACKUP_INTERVAL_HOURS",
    );
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
    expect(() => loadConfig({ FEEDKEEPER_MQTT_URL: "mqtt://h", FEEDKEEPER_MQTT_PASSWORD: "x" })).toThrow(
      "FEEDKEEPER_MQTT_PASSWORD: needs FEEDKEEPER_MQTT_USERNAME",
    );
    expect(() =>
      loadConfig({ FEEDKEEPER_MQTT_URL: "mqtt://h", FEEDKEEPER_MQTT_CA_FILE: "/nope.pem" }),
    ).toThrow('FEEDKEEPER_MQTT_CA_FILE="/nope.pem": no such file');
    expect(redactUrl("mqtt://fk:s3cret@ha.lan:1883")).toBe("mqtt://fk:***@ha.lan:1883");
  });

  it("turns Home Assistant discovery on by default only with an external broker", () => {
    expect(loadConfig({}).homeAssistant).toEqual({ discovery: false, prefix: "homeassistant" });
    expect(loadConfig({ FEEDKEEPER_MQTT_URL: "mqtt://ha.lan" }).homeAssistant.discovery).toBe(true);
    expect(
      loadConfig({ FEEDKEEPER_MQTT_URL: "mqtt://ha.lan", FEEDKEEPER_HA_DISCOVERY: "off" }).homeAssistant
        .discovery,
    ).toBe(false);
    expect(
      loadConfig({ FEEDKEEPER_HA_DISCOVERY: "on", FEEDKEEPER_HA_DISCOVERY_PREFIX: "ha/test" }).homeAssistant,
    ).toEqual({ discovery: true, prefix: "ha/test" });
    expect(() => loadConfig({ FEEDKEEPER_HA_DISCOVERY: "yes" })).toThrow(
      'FEEDKEEPER_HA_DISCOVERY="yes": must be auto, on or off',
    );
    expect(() => loadConfig({ FEEDKEEPER_HA_DISCOVERY_PREFIX: "home/#" })).toThrow(
      'FEEDKEEPER_HA_DISCOVERY_PREFIX="home/#": must be an MQTT topic prefix',
    );
  });

  it("reads the condition alerts' thresholds, 0 turning one off", () => {
    expect(loadConfig({}).conditionAlerts).toEqual({
      foodLowPercent: 20,
      batteryLowPercent: 15,
      offlineMinutes: 30,
    });
    expect(
      loadConfig({
        FEEDKEEPER_FOOD_LOW_PERCENT: "10",
        FEEDKEEPER_BATTERY_LOW_PERCENT: "0",
        FEEDKEEPER_OFFLINE_ALERT_MINUTES: "0",
      }).conditionAlerts,
    ).toEqual({ foodLowPercent: 10, batteryLowPercent: 0, offlineMinutes: 0 });
    expect(() => loadConfig({ FEEDKEEPER_FOOD_LOW_PERCENT: "95" })).toThrow(
      'FEEDKEEPER_FOOD_LOW_PERCENT="95": must be 0-90 %',
    );
    expect(() => loadConfig({ FEEDKEEPER_BATTERY_LOW_PERCENT: "low" })).toThrow(
      'FEEDKEEPER_BATTERY_LOW_PERCENT="low": must be a percentage',
    );
    expect(() => loadConfig({ FEEDKEEPER_OFFLINE_ALERT_MINUTES: "-5" })).toThrow(
      'FEEDKEEPER_OFFLINE_ALERT_MINUTES="-5": must be at least 0 minutes (0: never)',
    );
    expect(() => loadConfig({ FEEDKEEPER_OFFLINE_ALERT_MINUTES: "1.5" })).toThrow(
      "must be a whole number of minutes",
    );
  });

  it("reads the log format: auto unless told json or pretty", () => {
    expect(loadConfig({}).logFormat).toBe("auto");
    expect(loadConfig({ FEEDKEEPER_LOG_FORMAT: "pretty" }).logFormat).toBe("pretty");
    expect(() => loadConfig({ FEEDKEEPER_LOG_FORMAT: "text" })).toThrow(
      'FEEDKEEPER_LOG_FORMAT="text": must be auto, json or pretty',
    );
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
