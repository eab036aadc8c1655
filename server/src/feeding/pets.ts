/**
 * Pets and what they ate. A feeder feeds at most one pet (feeders.pet_id); a
 * pet may have several feeders. Intake is read from the feed ledger, summed as
 * a feeder's history sums it (feed-days.ts):
 *
 * - Only feeds known to have been dispensed count (status `dispensed`); a
 *   `timed_out` feed may or may not have come out, so it is not counted.
 * - A feed's grams are what the device measured, else its portions times the
 *   feeder's portion size (portionGrams, from the device's hello) as an
 *   estimate. With neither, its portions are reported as `unknownPortions`, so
 *   a day's grams are never silently low.
 * - A feed belongs to the local day it was dispensed (completedAt, else
 *   requestedAt). Days are read in the time zone every feeder of the pet
 *   shares when all of them have the same zone set, otherwise the server's.
 * - The feeders linked to the pet now count, with all their history: links
 *   have no history of their own.
 */
import { asc, eq } from "drizzle-orm";
import { randomId } from "../auth/secrets.js";
import type { Clock } from "../clock.js";
import { AppError } from "../errors.js";
import type { Store } from "../store/db.js";
import { feeders, pets } from "../store/schema.js";
import { feedDays } from "./feed-days.js";

export type PetRecord = typeof pets.$inferSelect;

export const MAX_PET_NAME_LENGTH = 64;
export const MAX_DAILY_GRAMS_TARGET = 10_000;
export const DEFAULT_INTAKE_DAYS = 7;
export const MAX_INTAKE_DAYS = 31;

export interface DayIntake {
  /** Local calendar date, YYYY-MM-DD. */
  date: string;
  /** Measured and estimated grams, to 0.1 g. */
  grams: number;
  /** Portions dispensed whose weight is unknown (no measurement, no portion size). */
  unknownPortions: number;
  targetGrams: number | null;
  /** Whole percent of the target, or null without a target. */
  percentOfTarget: number | null;
}

export interface PetIntake {
  pet: PetRecord;
  /** The zone the days are read in. */
  timezone: string;
  /** Oldest first, ending with today. */
  days: DayIntake[];
}

export interface PetInput {
  name: string;
  dailyGramsTarget?: number | null | undefined;
}

export class PetService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly serverTimeZone: string,
  ) {}

  create(householdId: string, input: PetInput): PetRecord {
    return this.store.db
      .insert(pets)
      .values({
        id: randomId(),
        householdId,
        name: input.name,
        dailyGramsTarget: input.dailyGramsTarget ?? null,
        createdAt: new Date(this.clock.now()),
      })
      .returning()
      .get();
  }

  list(householdId: string): PetRecord[] {
    return this.store.db
      .select()
      .from(pets)
      .where(eq(pets.householdId, householdId))
      .orderBy(asc(pets.createdAt), asc(pets.name))
      .all();
  }

  find(id: string): PetRecord | undefined {
    return this.store.db.select().from(pets).where(eq(pets.id, id)).get();
  }

  require(id: string): PetRecord {
    const pet = this.find(id);
    if (!pet) throw new AppError("pet_not_found");
    return pet;
  }

  update(id: string, changes: Partial<PetInput>): PetRecord {
    this.require(id);
    const set = {
      ...(changes.name !== undefined && { name: changes.name }),
      ...(changes.dailyGramsTarget !== undefined && { dailyGramsTarget: changes.dailyGramsTarget }),
    };
    if (Object.keys(set).length > 0) this.store.db.update(pets).set(set).where(eq(pets.id, id)).run();
    return this.require(id);
  }

  /** Its feeders stay, unlinked (the foreign key sets their pet to null). */
  remove(id: string): void {
    this.require(id);
    this.store.db.delete(pets).where(eq(pets.id, id)).run();
  }

  /** Grams dispensed per local day for the last `days` days up to and including today, against the target. */
  intake(petId: string, days = DEFAULT_INTAKE_DAYS): PetIntake {
    const pet = this.require(petId);
    const timezone = this.intakeTimeZone(petId);
    const target = pet.dailyGramsTarget;
    const perDay = feedDays(this.store, eq(feeders.petId, petId), {
      now: new Date(this.clock.now()),
      timeZone: timezone,
      days,
    });
    return {
      pet,
      timezone,
      days: perDay.map(({ date, grams, unknownPortions }) => ({
        date,
        grams,
        unknownPortions,
        targetGrams: target,
        percentOfTarget: target ? Math.round((grams / target) * 100) : null,
      })),
    };
  }

  private intakeTimeZone(petId: string): string {
    const zones = this.store.db
      .selectDistinct({ timezone: feeders.timezone })
      .from(feeders)
      .where(eq(feeders.petId, petId))
      .all();
    return zones.length === 1 && zones[0]?.timezone ? zones[0].timezone : this.serverTimeZone;
  }
}
