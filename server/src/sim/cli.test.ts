/**
 * The simulator's command line, parsed against the built-in profiles: which options go with which profile,
 * the defaults each device is played with, and the messages for combinations that cannot work.
 */
import { describe, expect, it } from "vitest";
import { parseCommandLine } from "./cli.js";

const PETNET_HID = "0123456789abcdef0123456789abcdef01234567";

const parse = (...argv: string[]) => parseCommandLine(argv);
const refusal = (...argv: string[]) => {
  try {
    parseCommandLine(argv);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`accepted: ${argv.join(" ")}`);
};

describe("simulator command line", () => {
  it("keeps the native feeder the default, with its only model", () => {
    expect(parse("--id", "f1", "--password", "pw")).toMatchObject({
      profile: "feedkeeper",
      id: "f1",
      password: "pw",
      model: "any",
      url: "mqtt://127.0.0.1:1883",
      dispenseMs: 200,
      jam: false,
    });
    expect(parse("--help")).toBe("help");
  });

  it("plays every profile", () => {
    const credentials = ["--id", "f1", "--password", "pw"];
    expect(parse("--profile", "esphome-mqtt", ...credentials)).toMatchObject({ model: "diy" });
    expect(parse("--profile", "tasmota-tuyamcu", ...credentials)).toMatchObject({ model: "arlec-5l" });
    expect(parse("--profile", "petlibro-dl", "--device-key", "AF0123456789AB")).toMatchObject({
      deviceKey: "AF0123456789AB",
      model: "PLAF103",
    });
    expect(parse("--profile", "petnet-smartfeeder-v2", "--device-key", PETNET_HID)).toMatchObject({
      model: "fw-2.5",
    });
    expect(
      parse("--profile", "zigbee2mqtt-aqara-c1", "--device-key", "kitchen_feeder", "--username", "u"),
    ).toMatchObject({ model: "ZNCWWSQ01LM", username: "u" });
    expect(refusal("--profile", "petlibro", "--device-key", "AF0123456789AB")).toMatch(
      /^--profile must be one of feedkeeper, esphome-mqtt, tasmota-tuyamcu, petlibro-dl,/,
    );
  });

  it("provisions with a model the simulator can play", () => {
    const provision = ["--provision", "2", "--api", "http://127.0.0.1:8080", "--token", "fkt_x"];
    expect(parse("--profile", "tasmota-tuyamcu", ...provision)).toMatchObject({
      provision: 2,
      model: "arlec-5l",
    });
    expect(refusal("--profile", "tasmota-tuyamcu", "--model", "ipettie-w5", ...provision)).toMatch(
      /^--model: the tasmota-tuyamcu simulator plays arlec-5l: its data points/,
    );
    expect(refusal("--profile", "esphome-mqtt", "--model", "esp32", ...provision)).toBe(
      "--model: esphome-mqtt has the models diy",
    );
  });

  it("takes each vendor model, and maps none it does not know", () => {
    const petlibro = ["--profile", "petlibro-dl", "--device-key", "AF0123456789AB"];
    expect(parse(...petlibro, "--model", "PLAF203")).toMatchObject({ model: "PLAF203" });
    expect(refusal(...petlibro, "--model", "PLAF999")).toMatch(
      /^--model: petlibro-dl has the models PLAF103,/,
    );
    const petnet = ["--profile", "petnet-smartfeeder-v2", "--device-key", PETNET_HID];
    expect(parse(...petnet, "--model", "fw-legacy")).toMatchObject({ model: "fw-legacy" });
  });

  it("refuses a device key for feeders on Feedkeeper's credentials, and their options for vendor devices", () => {
    expect(refusal("--device-key", "AF0123456789AB", "--id", "f1", "--password", "pw")).toMatch(
      /^--device-key: feedkeeper feeders log in with the credentials Feedkeeper issued/,
    );
    expect(refusal("--profile", "petlibro-dl", "--id", "f1", "--device-key", "AF0123456789AB")).toMatch(
      /^--id: petlibro-dl is played as one device named by --device-key/,
    );
    expect(refusal("--profile", "zigbee2mqtt-aqara-c1", "--device-key", "k", "--provision", "3")).toMatch(
      /^--provision: zigbee2mqtt-aqara-c1 is played as one device/,
    );
    expect(refusal("--profile", "petlibro-dl")).toBe(
      "--device-key is missing: it names the petlibro-dl device to play",
    );
    expect(refusal("--profile", "tasmota-tuyamcu", "--id", "f1")).toBe("--id needs --password");
  });

  it("checks a device key the way the profile recognises the device", () => {
    expect(refusal("--profile", "petlibro-dl", "--device-key", "af01")).toBe(
      '--device-key: petlibro-dl does not recognise "af01": its client id af01 must match ^(?<deviceKey>[0-9A-Z]{12,32})$',
    );
    expect(refusal("--profile", "petnet-smartfeeder-v2", "--device-key", "ABC")).toMatch(
      /^--device-key: petnet-smartfeeder-v2 does not recognise "ABC": its username \/pegasus:ABC must match/,
    );
    expect(refusal("--profile", "zigbee2mqtt-aqara-c1", "--device-key", "kitchen/#")).toBe(
      "--device-key: a friendly name must not contain # or +",
    );
  });

  it("gives each vendor device only the login it has", () => {
    expect(
      refusal("--profile", "petnet-smartfeeder-v2", "--device-key", PETNET_HID, "--username", "x"),
    ).toMatch(/^--username: a Petnet feeder's username is \/pegasus:<gateway hid>/);
    expect(
      parse("--profile", "petnet-smartfeeder-v2", "--device-key", PETNET_HID, "--password", "key"),
    ).toMatchObject({ password: "key" });
    expect(refusal("--profile", "zigbee2mqtt-aqara-c1", "--device-key", "k", "--password", "p")).toBe(
      "--password needs --username",
    );
  });

  it("keeps --stores-schedule to the native protocol, saying why", () => {
    expect(parse("--stores-schedule", "--id", "f1", "--password", "pw")).toMatchObject({
      storesSchedule: true,
    });
    expect(refusal("--profile", "esphome-mqtt", "--stores-schedule", "--id", "f1", "--password", "pw")).toBe(
      "--stores-schedule: esphome-mqtt feeders keep no meal plan",
    );
    expect(refusal("--profile", "petlibro-dl", "--device-key", "AF0123456789AB", "--stores-schedule")).toBe(
      "--stores-schedule: petlibro-dl feeders always store their meal plan",
    );
  });

  it("names the option of a value out of range", () => {
    expect(refusal("--profile", "petlibro-dl", "--device-key", "AF0123456789AB", "--dispense-ms=-1")).toBe(
      "--dispense-ms must be a whole number from 0 to 600000",
    );
    expect(refusal("--profile", "petlibro-dl", "--device-key", "AF0123456789AB", "--url", "http://x")).toBe(
      "--url must be an mqtt:// or mqtts:// URL",
    );
    expect(refusal("--bogus")).toMatch(/Unknown option '--bogus'/);
  });
});
