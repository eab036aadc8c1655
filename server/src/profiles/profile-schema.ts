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
import { topicMatches } from "../broker/acl.js";

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

export type CanonicalFault = (typeof CANONICAL_FAULTS)[number];

/**
 * Parts of a meal plan beyond meals every day, which not every device that stores its plan can hold:
 * meals on chosen weekdays only, one-off meals, skipping one meal, pausing.
 */
export const SCHEDULE_FEATURES = ["weekdays", "oneOffs", "skips", "pause"] as const;
export type ScheduleFeature = (typeof SCHEDULE_FEATURES)[number];

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
        features: z.array(z.enum(SCHEDULE_FEATURES)).optional().meta({
          description:
            "storage device: what else the device's stored plan can carry besides meals every day (none when left out); the API refuses the others for these feeders",
        }),
      })
      .strict()
      .default({ storage: "server" }),
    sensors: z.array(z.enum(SENSORS)).default([]),
    settings: z.array(z.enum(SETTINGS)).default([]),
    faults: faultMap.optional(),
  })
  .strict();

/** A topic with {root} (feedkeeper/<feeder id>), {feederId} or {deviceKey} in it. */
const topicTemplate = z
  .string()
  .min(1)
  .regex(/^[^#+]+$/, "a topic template names one topic: no MQTT wildcards")
  .meta({
    description:
      "topic with {root} (= feedkeeper/<feeder id>), {feederId} or {deviceKey} (the device's id on the wire)",
  });

const TELEMETRY_FIELDS = ["foodLevel", "weightGrams", "battery", "rssi"] as const;

/**
 * For codec `mapping`: devices whose messages are one value per topic (ESPHome, Tasmota-style), described
 * as data. Each rule is matched by topic; values are parsed as numbers unless said otherwise.
 */
export const mappingSchema = z
  .object({
    status: z
      .object({
        topic: topicTemplate,
        online: z.string().min(1),
        offline: z.string().min(1),
        hello: z
          .object({
            model: z.string().min(1).max(64),
            firmware: z.string().min(1).max(64),
            capabilities: z.array(z.string().min(1).max(32)).max(32),
          })
          .strict()
          .optional()
          .meta({ description: "what the device is taken to say about itself when it comes online" }),
      })
      .strict(),
    telemetry: z
      .array(
        z
          .object({
            topic: topicTemplate,
            field: z.enum(TELEMETRY_FIELDS),
            scale: z.number().positive().default(1).meta({ description: "multiply the value by this" }),
            round: z.boolean().default(false),
          })
          .strict(),
      )
      .default([]),
    dispensed: z.object({ topic: topicTemplate }).strict().optional().meta({
      description:
        "a number of portions the device publishes after each meal; matched to the oldest feed waiting for its result, else recorded as a meal started on the device",
    }),
    fault: z.object({ topic: topicTemplate }).strict().optional().meta({
      description: "a fault value, read through capabilities.faults; fails the feed waiting for its result",
    }),
    ignore: z.array(topicTemplate).default([]).meta({
      description: "topics the device publishes that mean nothing here; dropped without a log line",
    }),
    commands: z
      .object({
        feed: z
          .object({
            topic: topicTemplate,
            payload: z.string().min(1).meta({ description: "text with {portions}, {id} and {expiresAt}" }),
            qos: z.union([z.literal(0), z.literal(1)]).default(1),
            retain: z.literal(false).default(false),
          })
          .strict(),
      })
      .strict(),
  })
  .strict();
export type Mapping = z.infer<typeof mappingSchema>;

const tuyaDp = z.number().int().min(1).max(255);

const tuyaFeedState = z
  .object({
    dp: tuyaDp,
    feeding: z
      .array(z.number().int().min(0).max(255))
      .min(1)
      .meta({ description: "the enum values (indexes) that mean a meal is running" }),
  })
  .strict()
  .meta({
    description:
      "enum DP the device reports while it dispenses (feed_state): a feed report counts as a meal only after one of its `feeding` values, since a state query or a reboot replays the last report",
  });

/**
 * For codec `tuya-dp`: Tuya Wi-Fi feeders whose Wi-Fi module runs Tasmota (TuyaMCU), and which data point
 * (DP) means what. The defaults follow Tuya's standard feeder definition; a model that differs says how.
 */
export const tuyaSchema = z
  .object({
    manualFeed: tuyaDp.meta({ description: "value DP the feed command sets to the portions (manual_feed)" }),
    feedReport: tuyaDp.meta({
      description: "value DP with the portions of each finished meal (feed_report)",
    }),
    feedState: tuyaFeedState,
    mealPlan: tuyaDp.optional().meta({ description: "raw DP holding the stored plan (meal_plan)" }),
    fault: tuyaDp.optional().meta({ description: "fault bitmap DP, read through the model's `faults`" }),
    battery: tuyaDp.optional().meta({ description: "value DP, battery in percent" }),
    charging: tuyaDp.optional().meta({ description: "bool DP, on mains power / charging" }),
    foodLevel: tuyaDp.optional().meta({ description: "value DP, food left in percent (surplus_grain)" }),
    weight: tuyaDp.optional().meta({ description: "value DP, grams in the bowl" }),
    models: z
      .record(
        z.string(),
        z
          .object({
            manualFeed: tuyaDp.optional(),
            feedReport: tuyaDp.optional(),
            feedState: tuyaFeedState.optional(),
            // null: this model lacks a DP the defaults have.
            mealPlan: tuyaDp.nullable().optional(),
            fault: tuyaDp.nullable().optional(),
            battery: tuyaDp.nullable().optional(),
            charging: tuyaDp.nullable().optional(),
            foodLevel: tuyaDp.nullable().optional(),
            weight: tuyaDp.nullable().optional(),
            feedMax: z
              .number()
              .int()
              .min(1)
              .max(255)
              .optional()
              .meta({ description: "the most this model feeds at once, when above capabilities.feed.max" }),
          })
          .strict(),
      )
      .default({})
      .meta({
        description: "per model id: the DPs that differ from the defaults above (null: the model has none)",
      }),
  })
  .strict();
export type TuyaDps = z.infer<typeof tuyaSchema>;

const idPattern = z
  .string()
  .min(1)
  .refine(
    (source) => {
      try {
        new RegExp(source);
        return true;
      } catch {
        return false;
      }
    },
    { message: "not a valid regular expression" },
  );

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
      by: z.enum(["clientId", "username"]),
      pattern: idPattern.meta({
        description:
          "regular expression the vendor firmware's MQTT client id (or username) matches; a named group (?<deviceKey>…) picks the device's id out of it, else the whole value is its id",
      }),
      description: z.string().optional(),
    })
    .strict()
    .meta({
      description:
        "vendor firmware logs in with its own identity: an unknown device is held as pending until an owner adopts it",
    }),
  z
    .object({
      by: z.literal("topic"),
      description: z.string().optional(),
    })
    .strict()
    .meta({
      description:
        "on an external broker: the device is known by the {deviceKey} in the topics it publishes (e.g. a Zigbee2MQTT friendly name)",
    }),
]);

/** An MQTT topic filter over {deviceKey} and {model}; `+` for one level and a trailing `#` are allowed. */
const topicFilterTemplate = z
  .string()
  .min(1)
  .regex(/^([^#]*|[^#]*\/#)$/, "`#` only as the last level")
  .refine((t) => t.includes("{deviceKey}"), { message: "a device's topics must contain {deviceKey}" });

const deviceTopics = z
  .object({
    fromDevice: z
      .array(topicFilterTemplate)
      .min(1)
      .meta({ description: "topics the device publishes (the broker refuses any other from it)" }),
    toDevice: z
      .array(topicFilterTemplate)
      .min(1)
      .meta({ description: "topics the device subscribes to (the only ones it may)" }),
    commands: topicFilterTemplate.optional().meta({
      description:
        "where its commands go, for firmware that subscribes one topic at a time: it counts as ready for commands once it subscribes there (else at its first subscription)",
    }),
    gateway: z
      .string()
      .regex(/^[^#+]+$/, "the gateway's status is one topic")
      .optional()
      .meta({
        description:
          "external broker: where the gateway between the devices and the broker (Zigbee2MQTT) says whether it runs; when it stops, its devices count as offline even if their own last status says online",
      }),
  })
  .strict()
  .meta({
    description:
      "the topic space of a device that does not use Feedkeeper's own topics ({root}/…); {deviceKey} is its id on the wire",
  });

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
        topics: deviceTopics.optional(),
        discard: z
          .array(
            z
              .string()
              .min(1)
              .regex(/^([^#]*|[^#]*\/#)$/, "`#` only as the last level"),
          )
          .default([])
          .meta({
            description:
              "embedded broker: topics (filters) outside its own that the firmware insists on publishing to (Tasmota's discovery); accepted and thrown away, never stored or passed on, instead of cutting the connection",
          }),
      })
      .strict()
      .refine((t) => (t.identify.by === "credentials") === (t.topics === undefined), {
        message:
          "devices on Feedkeeper's credentials use its own topics; any other identity needs transport.topics",
        path: ["topics"],
      })
      .refine((t) => (t.broker === "external") === (t.identify.by === "topic"), {
        message: "a device is known by its topics (identify.by: topic) on an external broker, and only there",
        path: ["identify", "by"],
      })
      .refine((t) => t.broker === "external" || t.topics?.gateway === undefined, {
        message: "a gateway status topic is read only on an external broker",
        path: ["topics", "gateway"],
      }),
    codec: z
      .string()
      .regex(/^[a-z0-9-]+$/)
      .meta({ description: "the built-in codec that speaks this family's wire format" }),
    capabilities: capabilitySchema,
    mapping: mappingSchema.optional(),
    tuya: tuyaSchema.optional(),
    guide: z
      .string()
      .regex(/^docs\/[\w./-]+\.md$/, "guide: a Markdown file under docs/")
      .optional()
      .meta({
        description: "the setup / re-pointing guide for this family, relative to the repository root",
      }),
    sources: z
      .array(z.string().min(1))
      .default([])
      .meta({ description: "where the facts in this file come from" }),
    uncertain: z
      .array(z.string().min(1))
      .default([])
      .meta({ description: "what is inferred or seen only once, so nobody mistakes it for fact" }),
  })
  .strict()
  .refine((p) => (p.codec === "mapping") === (p.mapping !== undefined), {
    message: "codec mapping needs a mapping section, and only it has one",
    path: ["mapping"],
  })
  .superRefine((p, ctx) => {
    const m = p.mapping;
    if (!m) return;
    const incoming: Array<[string, string | undefined]> = [
      ["mapping.status.topic", m.status.topic],
      ["mapping.dispensed.topic", m.dispensed?.topic],
      ["mapping.fault.topic", m.fault?.topic],
      ...m.telemetry.map((t, i): [string, string] => [`mapping.telemetry.${i}.topic`, t.topic]),
    ];
    const commandPath = ["mapping", "commands", "feed", "topic"];
    const space = p.transport.topics;
    if (space) {
      // A device's own topic space (vendor firmware): the mapping must stay inside what its ACL allows.
      const sample = (t: string) => t.replaceAll("{deviceKey}", "device").replaceAll("{feederId}", "feeder");
      const within = (filters: string[], topic: string) =>
        filters.some((f) => topicMatches(sample(f), sample(topic)));
      for (const [path, topic] of incoming) {
        if (topic !== undefined && !within(space.fromDevice, topic)) {
          ctx.addIssue({
            code: "custom",
            path: path.split("."),
            message: "not one of the topics the device publishes (transport.topics.fromDevice)",
          });
        }
      }
      if (!within(space.toDevice, m.commands.feed.topic)) {
        ctx.addIssue({
          code: "custom",
          path: commandPath,
          message: "not one of the topics the device subscribes to (transport.topics.toDevice)",
        });
      }
      return;
    }
    if (p.transport.broker !== "embedded") return;
    // The embedded broker lets a feeder publish only under its own root and receive only from root/cmd/.
    for (const [path, topic] of incoming) {
      if (topic !== undefined && !topic.startsWith("{root}/")) {
        ctx.addIssue({
          code: "custom",
          path: path.split("."),
          message: "on the embedded broker a device publishes only under {root}/",
        });
      }
    }
    if (!m.commands.feed.topic.startsWith("{root}/cmd/")) {
      ctx.addIssue({
        code: "custom",
        path: commandPath,
        message: "on the embedded broker a device receives commands only under {root}/cmd/",
      });
    }
  })
  .superRefine((p, ctx) => {
    if ((p.codec === "tuya-dp") !== (p.tuya !== undefined)) {
      ctx.addIssue({
        code: "custom",
        path: ["tuya"],
        message: "codec tuya-dp needs a tuya section, and only it has one",
      });
    }
    if (!p.tuya) return;
    if (p.transport.identify.by !== "credentials") {
      ctx.addIssue({
        code: "custom",
        path: ["transport", "identify", "by"],
        message: "codec tuya-dp speaks Tasmota set up with Feedkeeper's credentials and topics (credentials)",
      });
    }
    const models = new Set(p.models.map((m) => m.id));
    for (const [model, dps] of Object.entries(p.tuya.models)) {
      if (!models.has(model)) {
        ctx.addIssue({
          code: "custom",
          path: ["tuya", "models", model],
          message: `not one of the profile's models (${[...models].join(", ")})`,
        });
      }
      if (dps.feedMax !== undefined && dps.feedMax < p.capabilities.feed.max) {
        ctx.addIssue({
          code: "custom",
          path: ["tuya", "models", model, "feedMax"],
          message: "below capabilities.feed.max: the API would ask this model for more than it feeds",
        });
      }
    }
  });

export type DeviceProfile = z.infer<typeof profileSchema>;
export type Capabilities = DeviceProfile["capabilities"];
