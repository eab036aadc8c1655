import { createRoute, z } from "@hono/zod-openapi";
import { capabilitySchema } from "../../../profiles/profile-schema.js";
import { errorResponses } from "../../schemas.js";

const ProfileSchema = z
  .object({
    id: z.string().openapi({ example: "feedkeeper" }),
    name: z.string(),
    vendor: z.string(),
    status: z.enum(["native", "verified", "community", "experimental"]),
    models: z.array(z.object({ id: z.string(), name: z.string() })),
    broker: z.enum(["embedded", "external"]),
    joins: z.enum(["credentials", "adoption", "deviceKey"]).openapi({
      description:
        "How a feeder of this family is added: credentials: POST /api/feeders issues them and the device is configured with them; adoption: the device connects with its own and is adopted from GET /api/devices/pending; deviceKey: POST /api/feeders with the device's id on the external broker",
    }),
    capabilities: capabilitySchema.openapi("Capabilities", {
      description:
        "What a feeder of this family can do: the feed range, where its schedule lives, sensors, settings, fault codes.",
    }),
    guide: z.string().nullable().openapi({
      description: "The setup guide, a path in the Feedkeeper repository",
      example: "docs/devices/esphome-mqtt.md",
    }),
    builtIn: z
      .boolean()
      .openapi({ description: "Shipped with the server; false: from FEEDKEEPER_PROFILES_DIR" }),
    uncertain: z.array(z.string()).openapi({ description: "Facts the profile marks as unverified" }),
    sources: z.array(z.string()),
  })
  .openapi("DeviceProfile");

const ProfileProblemSchema = z
  .object({ file: z.string(), line: z.number().int(), column: z.number().int(), message: z.string() })
  .openapi("ProfileProblem");

export const listProfiles = createRoute({
  method: "get",
  path: "/api/profiles",
  tags: ["Device profiles"],
  summary: "Device profiles this server loaded, and files it skipped",
  description:
    "A feeder is added with one of these ids. A profile file that is broken is skipped (and listed under `problems` with its file and line); the others still work.",
  responses: {
    200: {
      description: "Profiles",
      content: {
        "application/json": {
          schema: z.object({
            profiles: z.array(ProfileSchema),
            problems: z.array(ProfileProblemSchema),
            externalBroker: z.boolean().openapi({
              description:
                "Whether this server reads an external broker (FEEDKEEPER_MQTT_URL): without one, profiles with broker external cannot be added",
            }),
          }),
        },
      },
    },
    ...errorResponses(401),
  },
});
