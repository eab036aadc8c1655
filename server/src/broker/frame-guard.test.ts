import { describe, expect, it } from "vitest";
import { FrameSizeTracker } from "./frame-guard.js";

/** Encodes an MQTT Remaining Length the way the spec does (7 bits per byte). */
function header(type: number, remaining: number): number[] {
  const out = [type];
  let x = remaining;
  do {
    let byte = x % 128;
    x = Math.floor(x / 128);
    if (x > 0) byte |= 0x80;
    out.push(byte);
  } while (x > 0);
  return out;
}

describe("FrameSizeTracker", () => {
  it("passes packets within the limit, across chunk boundaries", () => {
    const t = new FrameSizeTracker(1000);
    const packet = [...header(0x30, 300), ...new Array(300).fill(1)];
    const twice = [...packet, ...packet];
    for (let i = 0; i < twice.length; i += 7) {
      expect(t.push(Uint8Array.from(twice.slice(i, i + 7)))).toBe("ok");
    }
  });

  it("refuses a packet that announces more than the limit, from its header alone", () => {
    const t = new FrameSizeTracker(64 * 1024);
    expect(t.push(Uint8Array.from(header(0x30, 64 * 1024 + 1)))).toBe("too_large");
  });

  it("refuses the 256 MB maximum Remaining Length before it is complete", () => {
    const t = new FrameSizeTracker(64 * 1024);
    // 0xff 0xff 0xff 0x7f = 268,435,455; the third byte already exceeds 64 KiB.
    expect(t.push(Uint8Array.from([0x10, 0xff, 0xff]))).toBe("ok");
    expect(t.push(Uint8Array.from([0xff]))).toBe("too_large");
  });

  it("refuses a Remaining Length longer than four bytes", () => {
    const t = new FrameSizeTracker(Number.MAX_SAFE_INTEGER);
    expect(t.push(Uint8Array.from([0x30, 0x80, 0x80, 0x80, 0x80]))).toBe("malformed");
  });

  it("tracks zero-length packets such as PINGREQ", () => {
    const t = new FrameSizeTracker(10);
    expect(
      t.push(Uint8Array.from([0xc0, 0x00, 0xc0, 0x00, ...header(0x30, 10), ...new Array(10).fill(0)])),
    ).toBe("ok");
    expect(t.push(Uint8Array.from(header(0x30, 11)))).toBe("too_large");
  });
});
