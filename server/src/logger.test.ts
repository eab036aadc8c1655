import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, logLevelControl, resolveLogFormat } from "./logger.js";

/** A destination that keeps every line written to it. */
function capture(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split("\n").filter(Boolean));
      done();
    },
  });
  return { stream, lines };
}

describe("resolveLogFormat", () => {
  it("is pretty on a terminal and JSON elsewhere when automatic, and what it is told otherwise", () => {
    expect(resolveLogFormat("auto", true)).toBe("pretty");
    expect(resolveLogFormat("auto", false)).toBe("json");
    expect(resolveLogFormat("json", true)).toBe("json");
    expect(resolveLogFormat("pretty", false)).toBe("pretty");
  });
});

describe("createLogger", () => {
  it("writes JSON lines and keeps secrets out of them", () => {
    const { stream, lines } = capture();
    const logger = createLogger("info", { format: "json", destination: stream });
    logger.info({ token: "fk_abc", user: { password: "hunter2" } }, "signed in");
    const line = JSON.parse(lines[0] ?? "{}");
    expect(line).toMatchObject({ msg: "signed in", service: "feedkeeper", token: "[redacted]" });
    expect(line.user.password).toBe("[redacted]");
  });

  it("writes pretty lines when asked, on a terminal or not, still without secrets", () => {
    const { stream, lines } = capture();
    const logger = createLogger("info", { format: "auto", isTTY: true, destination: stream });
    logger.child({ component: "http" }).info({ secret: "s3cret" }, "hello");
    const text = lines.join("\n");
    expect(text).toContain("INFO");
    expect(text).toContain("hello");
    expect(text).toContain("component");
    expect(text).not.toContain("s3cret");
    expect(() => JSON.parse(lines[0] ?? "")).toThrow();
  });

  it("moves children made before a level change, and their children, with the root", () => {
    const { stream, lines } = capture();
    const root = createLogger("info", { format: "json", destination: stream });
    const child = root.child({ component: "bridge" });
    const grandchild = child.child({ feederId: "f1" });
    child.debug("hidden");
    root.level = "debug";
    expect(child.level).toBe("debug");
    expect(grandchild.level).toBe("debug");
    child.debug("shown");
    grandchild.debug("shown too");
    root.level = "warn";
    child.info("hidden again");
    const made = root.child({ component: "late" });
    expect(made.level).toBe("warn");
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(["shown", "shown too"]);
  });

  it("keeps a child's own change to itself", () => {
    const root = createLogger("info", { format: "json", destination: capture().stream });
    const a = root.child({ component: "a" });
    const b = root.child({ component: "b" });
    a.level = "trace";
    expect(root.level).toBe("info");
    expect(b.level).toBe("info");
  });
});

describe("logLevelControl", () => {
  it("changes the level of the root and its children and says so where the line is seen", () => {
    const { stream, lines } = capture();
    const root = createLogger("info", { format: "json", destination: stream });
    const bridge = root.child({ component: "bridge" });
    const control = logLevelControl(root, "info");
    control.change("debug", "anna");
    bridge.debug("now visible");
    control.change("warn", "anna");
    control.change("error", "anna");
    control.change("debug", "anna");
    control.change("debug", "anna");
    expect(control.current()).toBe("debug");
    expect(control.configured).toBe("info");
    expect(lines.map((l) => JSON.parse(l))).toMatchObject([
      { level: 30, msg: "log level changed", from: "info", to: "debug", by: "anna" },
      { msg: "now visible", component: "bridge" },
      // Before the change: info still showed.
      { level: 30, from: "debug", to: "warn" },
      // Neither warn nor error shows info: said at warn, before the change.
      { level: 40, from: "warn", to: "error" },
      // After the change: error hid it, debug shows it.
      { level: 30, from: "error", to: "debug" },
    ]);
    expect(lines).toHaveLength(5);
  });

  it("goes silent without a word and comes back with one", () => {
    const { stream, lines } = capture();
    const root = createLogger("error", { format: "json", destination: stream });
    const control = logLevelControl(root, "error");
    control.change("silent", "anna");
    root.child({ component: "x" }).fatal("unseen");
    expect(lines).toHaveLength(0);
    control.change("info", "anna");
    expect(lines.map((l) => JSON.parse(l))).toMatchObject([{ from: "silent", to: "info" }]);
  });
});
