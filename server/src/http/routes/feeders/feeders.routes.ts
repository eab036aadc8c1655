import { createRoute, z } from "@hono/zod-openapi";
import {
  errorResponses,
  FeederChangesSchema,
  FeederCredentialsSchema,
  FeederIdParam,
  FeederSchema,
  NewFeederSchema,
} from "../../schemas.js";

const FeederWithCredentials = z
  .object({
    feeder: FeederSchema,
    credentials: FeederCredentialsSchema.nullable().openapi({
      description: "null for devices that bring their own credentials or sit on an external broker",
    }),
  })
  .openapi("FeederWithCredentials");

export const postFeeder = createRoute({
  method: "post",
  path: "/api/feeders",
  tags: ["Feeders"],
  summary: "Add a feeder and get its MQTT credentials (shown once)",
  description:
    "The feeder connects with client id = username = its id and the returned password. The password is shown only here; it is stored as a salted hash. Lost it? Issue new credentials. Profiles on an external broker (e.g. Zigbee2MQTT) need `deviceKey` and get no credentials; vendor firmware that brings its own credentials is not added here but adopted from the pending devices.",
  request: { body: { required: true, content: { "application/json": { schema: NewFeederSchema } } } },
  responses: {
    201: { description: "Created", content: { "application/json": { schema: FeederWithCredentials } } },
    ...errorResponses(400, 401, 403, 422),
  },
});

export const listFeeders = createRoute({
  method: "get",
  path: "/api/feeders",
  tags: ["Feeders"],
  summary: "All feeders with their live state and last feed",
  responses: {
    200: {
      description: "Feeders",
      content: { "application/json": { schema: z.object({ feeders: z.array(FeederSchema) }) } },
    },
    ...errorResponses(401),
  },
});

export const getFeeder = createRoute({
  method: "get",
  path: "/api/feeders/{id}",
  tags: ["Feeders"],
  summary: "One feeder: online, last seen, firmware, latest telemetry, last feed",
  request: { params: FeederIdParam },
  responses: {
    200: {
      description: "The feeder",
      content: { "application/json": { schema: z.object({ feeder: FeederSchema }) } },
    },
    ...errorResponses(401, 404),
  },
});

export const patchFeeder = createRoute({
  method: "patch",
  path: "/api/feeders/{id}",
  tags: ["Feeders"],
  summary: "Rename a feeder, change its limits or link it to a pet",
  description:
    "Only `name`, `maxPortions`, `dailyMaxPortions`, `minFeedIntervalSeconds` and `petId` can change; other fields are ignored. The id never changes. `petId: null` unlinks the feeder; an unknown pet is refused with 422 `unknown_pet`.",
  request: {
    params: FeederIdParam,
    body: { required: true, content: { "application/json": { schema: FeederChangesSchema } } },
  },
  responses: {
    200: {
      description: "The feeder",
      content: { "application/json": { schema: z.object({ feeder: FeederSchema }) } },
    },
    ...errorResponses(400, 401, 403, 404, 422),
  },
});

export const deleteFeeder = createRoute({
  method: "delete",
  path: "/api/feeders/{id}",
  tags: ["Feeders"],
  summary: "Delete a feeder, its history, and cut its MQTT session",
  request: { params: FeederIdParam },
  responses: { 204: { description: "Deleted" }, ...errorResponses(401, 403, 404) },
});

export const postFeederCredentials = createRoute({
  method: "post",
  path: "/api/feeders/{id}/credentials",
  tags: ["Feeders"],
  summary: "Issue a new MQTT password (shown once); the old one stops working at once",
  request: { params: FeederIdParam },
  responses: {
    201: {
      description: "New credentials",
      content: { "application/json": { schema: FeederWithCredentials } },
    },
    ...errorResponses(401, 403, 404),
  },
});
