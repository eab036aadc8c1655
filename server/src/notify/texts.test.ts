import { describe, expect, it } from "vitest";
import { ALERT_KINDS } from "../store/schema.js";
import { alertText, testText } from "./texts.js";

const createdAt = new Date("2026-11-26T06:35:00Z");

describe("alert texts", () => {
  it.each(ALERT_KINDS)("%s has its own title and sentence in English and Japanese", (kind) => {
    const facts = { kind, feederName: "Kitchen", createdAt, message: "English detail." };
    const en = alertText(facts, "en", "Europe/Berlin");
    const ja = alertText(facts, "ja", "Asia/Tokyo");
    expect(en.title).toMatch(/^[A-Z].*: Kitchen$/);
    expect(en.body).toContain("Kitchen");
    expect(en.body).toContain("English detail.");
    expect(en.body).toContain("07:35"); // Berlin
    expect(ja.title).toContain("（Kitchen）");
    expect(ja.title).toMatch(/[\u3040-\u30ff\u4e00-\u9fff]/);
    expect(ja.body).toMatch(/^Kitchen(の|が|に)/);
    expect(ja.body).toContain("15:35"); // Tokyo
    // Composed in Japanese, not the English message carried over.
    expect(ja.body).not.toContain("English detail.");
    expect(en.tags).toContain(kind);
    expect(en.priority).toBeGreaterThanOrEqual(3);
  });

  it("gives every kind a different title", () => {
    for (const language of ["en", "ja"] as const) {
      const titles = ALERT_KINDS.map(
        (kind) => alertText({ kind, feederName: "X", createdAt, message: "" }, language, "UTC").title,
      );
      expect(new Set(titles).size).toBe(ALERT_KINDS.length);
    }
  });

  it("names the server when the alert concerns no feeder, and says when quiet hours held it", () => {
    const facts = { kind: "clock_skew" as const, feederName: null, createdAt, message: "" };
    expect(alertText(facts, "en", "UTC", { held: true }).body).toContain(
      "Held during quiet hours; sent when they ended.",
    );
    expect(alertText(facts, "ja", "UTC", { held: true }).body).toContain("おやすみ時間中のため保留");
    expect(alertText(facts, "en", "UTC").title).toBe("Feeder clock is off: Feedkeeper");
    expect(alertText(facts, "en", "UTC").body).not.toContain("quiet hours");
  });

  it("has a test message in both languages naming the channel", () => {
    expect(testText("Phone", "en", createdAt, "UTC").body).toContain('"Phone"');
    expect(testText("Phone", "ja", createdAt, "UTC").body).toContain("「Phone」");
  });
});
