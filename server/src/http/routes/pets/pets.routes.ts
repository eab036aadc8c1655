import { createRoute, z } from "@hono/zod-openapi";
import { DEFAULT_INTAKE_DAYS, MAX_INTAKE_DAYS } from "../../../feeding/pets.js";
import {
  errorResponses,
  NewPetSchema,
  PetChangesSchema,
  PetIdParam,
  PetIntakeSchema,
  PetSchema,
} from "../../schemas.js";

const onePet = {
  description: "The pet",
  content: { "application/json": { schema: z.object({ pet: PetSchema }) } },
};

export const listPets = createRoute({
  method: "get",
  path: "/api/pets",
  tags: ["Pets"],
  summary: "All pets",
  description: "Feeders name their pet (`petId` on a feeder); a pet may have several feeders.",
  responses: {
    200: {
      description: "Pets, oldest first",
      content: { "application/json": { schema: z.object({ pets: z.array(PetSchema) }) } },
    },
    ...errorResponses(401),
  },
});

export const postPet = createRoute({
  method: "post",
  path: "/api/pets",
  tags: ["Pets"],
  summary: "Add a pet, optionally with a daily target in grams",
  description: "Link feeders to it with `PATCH /api/feeders/{id}` and `petId`.",
  request: { body: { required: true, content: { "application/json": { schema: NewPetSchema } } } },
  responses: { 201: { ...onePet, description: "Created" }, ...errorResponses(400, 401, 403) },
});

export const getPet = createRoute({
  method: "get",
  path: "/api/pets/{id}",
  tags: ["Pets"],
  summary: "One pet",
  request: { params: PetIdParam },
  responses: { 200: onePet, ...errorResponses(401, 404) },
});

export const patchPet = createRoute({
  method: "patch",
  path: "/api/pets/{id}",
  tags: ["Pets"],
  summary: "Rename a pet or change its daily target",
  description: "`dailyGramsTarget: null` removes the target.",
  request: {
    params: PetIdParam,
    body: { required: true, content: { "application/json": { schema: PetChangesSchema } } },
  },
  responses: { 200: onePet, ...errorResponses(400, 401, 403, 404) },
});

export const deletePet = createRoute({
  method: "delete",
  path: "/api/pets/{id}",
  tags: ["Pets"],
  summary: "Delete a pet; its feeders stay, unlinked",
  request: { params: PetIdParam },
  responses: { 204: { description: "Deleted" }, ...errorResponses(401, 403, 404) },
});

export const getPetIntake = createRoute({
  method: "get",
  path: "/api/pets/{id}/intake",
  tags: ["Pets"],
  summary: "Grams dispensed to a pet per day, against its daily target",
  description:
    "For each of the last `days` local days up to and including today: the grams dispensed by the feeders linked to the pet now (with their whole history). Only feeds with status `dispensed` count; a `timed_out` feed's outcome is unknown, so it does not. A feed's grams are the device's measurement, else its portions × the feeder's `portionGrams`; portions with neither are counted in `unknownPortions` instead. A feed belongs to the day it was dispensed (`completedAt`, else `requestedAt`), in the time zone all the pet's feeders share, else the server's.",
  request: {
    params: PetIdParam,
    query: z.object({
      days: z.coerce
        .number()
        .int("days must be a whole number")
        .min(1, `days must be 1-${MAX_INTAKE_DAYS}`)
        .max(MAX_INTAKE_DAYS, `days must be 1-${MAX_INTAKE_DAYS}`)
        .default(DEFAULT_INTAKE_DAYS)
        .openapi({ description: "How many local days, ending with today" }),
    }),
  },
  responses: {
    200: { description: "Intake per day", content: { "application/json": { schema: PetIntakeSchema } } },
    ...errorResponses(400, 401, 404),
  },
});
