import type { RouteHandler } from "@hono/zod-openapi";
import { type AppEnv, currentUser } from "../../context.js";
import { presentPet, presentPetIntake } from "../../presenters.js";
import type { deletePet, getPet, getPetIntake, listPets, patchPet, postPet } from "./pets.routes.js";

export const allPets: RouteHandler<typeof listPets, AppEnv> = (c) =>
  c.json({ pets: c.get("services").pets.list(currentUser(c).householdId).map(presentPet) }, 200);

export const createPet: RouteHandler<typeof postPet, AppEnv> = (c) =>
  c.json(
    { pet: presentPet(c.get("services").pets.create(currentUser(c).householdId, c.req.valid("json"))) },
    201,
  );

export const onePet: RouteHandler<typeof getPet, AppEnv> = (c) =>
  c.json({ pet: presentPet(c.get("services").pets.require(c.req.valid("param").id)) }, 200);

export const changePet: RouteHandler<typeof patchPet, AppEnv> = (c) =>
  c.json(
    { pet: presentPet(c.get("services").pets.update(c.req.valid("param").id, c.req.valid("json"))) },
    200,
  );

export const removePet: RouteHandler<typeof deletePet, AppEnv> = (c) => {
  c.get("services").pets.remove(c.req.valid("param").id);
  return c.body(null, 204);
};

export const petIntake: RouteHandler<typeof getPetIntake, AppEnv> = (c) => {
  const intake = c.get("services").pets.intake(c.req.valid("param").id, c.req.valid("query").days);
  return c.json(presentPetIntake(intake), 200);
};
