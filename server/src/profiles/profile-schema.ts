/**
 * The device profile format: one YAML file per device family in
 * device-profiles/. This schema is the single definition: the loader validates
 * every file with it, device-profiles/schema.json (for editor completion) is
 * generated from it, and so is the profile list in docs/devices/.
 *
 * A profile's capability model says what a feeder of that family can do; the
 * API, the UI and (later) Home Assistant discovery read it from here.
 */
import { z } from "zod";

/** What the core understands a device error to be, whatever the vendor's code or bit. */
export const CANONICAL_FAULTS = [
  "jam",
  "empty",
  "food_low",
  "blocked",
  "battery_low",
  "desiccant",
  "lid_open",
  "on_battery",
  "ok",
  "unknown",
] as const;

export const SENSORS = ["foodLevel", "weightGrams", "battery", "charging", "rssi", "linkQuality"] as const;
export const SETTINGS = ["childLock", "ledNightOff", "manualMode", "servingSize", "portionWeight"] as const;

const faultMap = z
  .object({
    encoding: z.enum(["code", "bitmask"]).meta({
      description: "code: the value is one code; bitmask: each set bit (1, 2, 4, …) is a fault of its own",
    }),
    map: z
      .record(
        z.string().regex(/^\d+$|^[a-z0-9_]+$/, "fault keys are numbers or lower_snake names"),
        z.enum(CANONICAL_FAULTS),
      )
      .meta({ description: "vendor code, bit value or name → canonical fault" }),
  })
  .strict();

const feedCapability = z
  .object({
    unit: z
      .enum(["portion", "cup", "gram"])
      .default("portion")
      .meta({ description: "what one step of the device's feed command means" }),
    min: z.number().positive(),
    max: z.number().positive(),
    step: z.number().positive().default(1),
    portionGrams: z
      .number()
      .positive()
      .max(1000)
      .optional()
      .meta({ description: "grams in one unit, when the vendor states it; the device may report its own" }),
  })
  .strict()
  .refine((f) => f.min <= f.max, { message: "min must not be above max", path: ["min"] });

export const capabilitySchema = z
  .object({
    feed: feedCapability,
    schedule: z
      .object({
        storage: z.enum(["device", "server"]).meta({
          description:
            "device: the feeder stores the plan and feeds on its own (the server pushes it and reconciles); server: the server sends each meal as a feed command",
        }),
        slots: z.number().int().min(1).max(100).optional(),
      })
      .strict()
      .default({ storage: "server" }),
    sensors: z.array(z.enum(SENSORS)).default([]),
    settings: z.array(z.enum(SETTINGS)).default([]),
    faults: faultMap.optional(),
  })
  .strict();

const identify = z.discriminatedUnion("by", [
  z
    .object({
      by: z.literal("credentials"),
      description: z.string().optional(),
    })
    .strict()
    .meta({
      description:
        "the device logs in with the credentials Feedkeeper issued (client id = username = feeder id)",
    }),
  z
    .object({
      by: z.literal("clientId"),
      pattern: z
        .string()
        .min(1)
        .meta({ description: "regular expression the vendor firmware's MQTT client id matches" }),
    })
    .strict(),
  z
    .object({
      by: z.literal("topic"),
      template: z.string().min(1).meta({ description: "topic the device publishes first, with {variables}" }),
    })
    .strict(),
]);

export const profileSchema = z
  .object({
    $schema: z.string().optional(),
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{1,63}$/, "id: 2-64 lower-case letters, digits and -")
      .meta({ description: "what a feeder's `profile` field names; never reuse one" }),
    name: z.string().min(1).max(100),
    vendor: z.string().min(1).max(100),
    status: z.enum(["native", "verified", "community", "experimental"]).meta({
      description:
        "native: Feedkeeper's own protocol; verified: tested against real hardware; community: built from public sources; experimental: parts unverified",
    }),
    models: z
      .array(
        z
          .object({
            id: z.string().min(1).max(64),
            name: z.string().min(1).max(100),
            faults: faultMap
              .optional()
              .meta({ description: "this model's own fault codes, replacing the profile's" }),
          })
          .strict(),
      )
      .min(1),
    transport: z
      .object({
        protocol: z.literal("mqtt"),
        broker: z.enum(["embedded", "external"]).meta({
          description:
            "embedded: the device connects to Feedkeeper's broker; external: Feedkeeper reads an existing broker",
        }),
        identify,
      })
      .strict(),
    codec: z
      .string()
      .regex(/^[a-z0-9-]+$/)
      .meta({ description: "the built-in codec that speaks this family's wire format" }),
    capabilities: capabilitySchema,
    sources: z
      .array(z.string().min(1))
      .default([])
      .meta({ description: "where the facts in this file come from" }),
    uncertain: z
      .array(z.string().min(1))
      .default([])
      .meta({ description: "what is inferred or seen only once, so nobody mistakes it for fact" }),
  })
  .strict();

export type DeviceProfile = z.infer<typeof profileSchema>;
export type Capabilities = DeviceProfile["capabilities"];
