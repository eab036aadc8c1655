import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

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
});
