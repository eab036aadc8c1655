/**
 * Pets through the whole server (HTTP, broker, ledger) with a simulated feeder
 * on an injected clock: a pet's intake is what its feeders really dispensed.
 */
import fs from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Feeder, Pet, PetIntake } from "../../server/src/http/api-types.js";
import type { Running } from "../../server/src/main.js";
import { SimulatedFeeder } from "../../server/src/sim/native-feeder.js";
import { FakeClock } from "../../server/src/testing/fake-clock.js";
import type { TestApi } from "../helpers/api.js";
import { bootInProcess } from "../helpers/in-process.js";
import { makeDataDir } from "../helpers/server.js";

let clock: FakeClock;
let dataDir: string;
let server: Running;
let api: TestApi;
let device: SimulatedFeeder | undefined;

beforeEach(async () => {
  clock = new FakeClock(Date.parse("2026-11-26T06:29:00Z"));
  dataDir = makeDataDir();
  ({ server, api } = await bootInProcess({ dataDir, clock }));
  await api.setupOwner();
});

afterEach(async () => {
  await device?.stop();
  device = undefined;
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function createPet(body: Record<string, unknown>): Promise<Pet> {
  const res = await api.request<{ pet: Pet }>("POST", "/api/pets", body);
  expect(res.status).toBe(201);
  return res.body.pet;
}

async function intake(petId: string, days = 2): Promise<PetIntake> {
  const res = await api.request<PetIntake>("GET", `/api/pets/${petId}/intake?days=${days}`);
  expect(res.status).toBe(200);
  return res.body;
}

describe("pets", () => {
  it("shows the grams a linked feeder dispensed against the pet's daily target", async () => {
    const pet = await createPet({ name: " Miso ", dailyGramsTarget: 80 });
    expect(pet).toMatchObject({ name: "Miso", dailyGramsTarget: 80 });
    const { feeder, credentials } = await api.createFeeder("Kitchen", { petId: pet.id });
    expect(feeder.petId).toBe(pet.id);

    device = new SimulatedFeeder({
      url: `mqtt://127.0.0.1:${server.mqttPort}`,
      id: credentials.username,
      password: credentials.password,
      portionGrams: 12,
      dispenseMsPerPortion: 10,
      now: () => new Date(clock.now()),
    });
    await device.start();
    await api.waitForFeeder(feeder.id, (f) => f.online && f.portionGrams === 12);
    const fed = await api.feed(feeder.id, { portions: 2 });
    expect(fed.status).toBe(202);
    expect(await api.waitForFeed(fed.body.feed.id, ["dispensed"])).toMatchObject({ grams: 24 });

    const { days, pet: shown } = await intake(pet.id);
    expect(shown).toEqual(pet);
    expect(days).toHaveLength(2);
    expect(days.at(-1)).toEqual({
      date: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      grams: 24,
      unknownPortions: 0,
      targetGrams: 80,
      percentOfTarget: 30,
    });
    expect(days[0]).toMatchObject({ grams: 0, percentOfTarget: 0 });

    // Unlinked, the feeder's feeds are no longer the pet's; deleting the pet keeps the feeder.
    const unlinked = await api.request<{ feeder: Feeder }>("PATCH", `/api/feeders/${feeder.id}`, {
      petId: null,
    });
    expect(unlinked.body.feeder.petId).toBeNull();
    expect((await intake(pet.id)).days.at(-1)).toMatchObject({ grams: 0 });
    await api.request("PATCH", `/api/feeders/${feeder.id}`, { petId: pet.id });
    expect((await api.request("DELETE", `/api/pets/${pet.id}`)).status).toBe(204);
    expect((await api.request("GET", `/api/pets/${pet.id}`)).body.error.code).toBe("pet_not_found");
    expect((await api.waitForFeeder(feeder.id, () => true)).petId).toBeNull();
  });

  it("lists, renames and clears a pet's target", async () => {
    const rex = await createPet({ name: "Rex", dailyGramsTarget: 200 });
    await createPet({ name: "Tom" });
    const changed = await api.request<{ pet: Pet }>("PATCH", `/api/pets/${rex.id}`, {
      name: "Rex II",
      dailyGramsTarget: null,
    });
    expect(changed.body.pet).toMatchObject({ id: rex.id, name: "Rex II", dailyGramsTarget: null });
    const list = await api.request<{ pets: Pet[] }>("GET", "/api/pets");
    expect(list.body.pets.map((p) => p.name)).toEqual(["Rex II", "Tom"]);
    expect((await intake(rex.id, 1)).days).toEqual([
      expect.objectContaining({ grams: 0, targetGrams: null, percentOfTarget: null }),
    ]);
  });

  it("refuses invalid pets and links with messages naming the field", async () => {
    const empty = await api.request("POST", "/api/pets", { name: "   " });
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toContain("name");
    const negative = await api.request("POST", "/api/pets", { name: "Rex", dailyGramsTarget: -5 });
    expect(negative.status).toBe(400);
    expect(negative.body.error.message).toContain("dailyGramsTarget");
    const days = await api.request("GET", `/api/pets/${(await createPet({ name: "Rex" })).id}/intake?days=0`);
    expect(days.status).toBe(400);
    expect(days.body.error.message).toContain("days");

    const unknownOnCreate = await api.request("POST", "/api/feeders", {
      name: "Hall",
      profile: "feedkeeper",
      petId: "nosuchpet",
    });
    expect(unknownOnCreate.status).toBe(422);
    expect(unknownOnCreate.body.error).toMatchObject({ code: "unknown_pet" });
    expect(unknownOnCreate.body.error.message).toContain("petId");
    const { feeder } = await api.createFeeder("Kitchen");
    const unknownOnPatch = await api.request("PATCH", `/api/feeders/${feeder.id}`, { petId: "nosuchpet" });
    expect(unknownOnPatch.status).toBe(422);
    expect(unknownOnPatch.body.error.message).toContain("petId");
    expect((await api.request("GET", "/api/pets/nosuchpet/intake")).status).toBe(404);
  });
});
