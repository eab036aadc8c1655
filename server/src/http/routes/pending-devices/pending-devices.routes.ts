import { createRoute, z } from "@hono/zod-openapi";
import { errorResponses, FeederSchema, NewFeederSchema } from "../../schemas.js";

const isoTime = z.string().openapi({ example: "2026-11-26T07:30:00.000Z" });

export const PendingDeviceSchema = z
  .object({
    id: z.string().openapi({ example: "p7k2m9x4q1ab" }),
    profile: z.string().openapi({ description: "The profile that recognised it", example: "petlibro-dl" }),
    deviceKey: z.string().openapi({ description: "Its id on the wire (serial, gateway id)" }),
    clientId: z.string(),
    address: z.string().nullable(),
    firstSeenAt: isoTime,
    lastSeenAt: isoTime,
    connections: z.number().int(),
    topics: z
      .array(z.string())
      .openapi({ description: "Topics it published or subscribed to, the last 5 (never what it said)" }),
    suggestedModel: z
      .string()
      .nullable()
      .openapi({ description: "A model of its profile named in one of its topics" }),
  })
  .openapi("PendingDevice");

const PendingIdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "id", in: "path" }, example: "p7k2m9x4q1ab" }),
});

export const AdoptSchema = NewFeederSchema.omit({ profile: true, deviceKey: true }).openapi("AdoptDevice");

export const listPendingDevices = createRoute({
  method: "get",
  path: "/api/devices/pending",
  tags: ["Feeders"],
  summary: "Devices waiting to be adopted",
  description:
    "Vendor firmware that connected with credentials of its own, recognised by a profile. Until an owner adopts it nothing is sent to it and nothing it says is kept beyond its identity and the topic names it used. Entries expire an hour after the device was last seen; at most 10 new ones are taken per 10 minutes.",
  responses: {
    200: {
      description: "Newest first",
      content: { "application/json": { schema: z.object({ devices: z.array(PendingDeviceSchema) }) } },
    },
    ...errorResponses(401),
  },
});

export const postAdoptDevice = createRoute({
  method: "post",
  path: "/api/devices/pending/{id}/adopt",
  tags: ["Feeders"],
  summary: "Adopt a pending device as a feeder",
  description:
    "Creates a feeder for the device with the profile that recognised it. The device keeps logging in with the password it used (stored as a salted hash); its session is cut so it reconnects as the feeder. Pick `model` when the profile has several (`suggestedModel` may help).",
  request: {
    params: PendingIdParam,
    body: { required: true, content: { "application/json": { schema: AdoptSchema } } },
  },
  responses: {
    201: {
      description: "The new feeder",
      content: { "application/json": { schema: z.object({ feeder: FeederSchema }) } },
    },
    ...errorResponses(400, 401, 403, 404, 409, 422),
  },
});

export const deletePendingDevice = createRoute({
  method: "delete",
  path: "/api/devices/pending/{id}",
  tags: ["Feeders"],
  summary: "Dismiss a pending device",
  description: "Forgets it and cuts its session; if it connects again it is held as pending again.",
  request: { params: PendingIdParam },
  responses: { 204: { description: "Dismissed" }, ...errorResponses(401, 403, 404) },
});
