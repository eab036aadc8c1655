/**
 * Owner profiles (FEEDKEEPER_PROFILES_DIR) for a made-up device family, so tests of adoption and of the
 * external broker depend on no vendor's codec: both use the `mapping` codec.
 */
/** Vendor firmware with its own identity (client id ACME-<8 hex digits>) on the embedded broker. */
export const ACME_VENDOR_PROFILE = `
id: acme-vendor
name: ACME feeder (vendor firmware)
vendor: ACME
status: experimental
models:
  - id: AF1
    name: AF-1
  - id: AF2
    name: AF-2
transport:
  protocol: mqtt
  broker: embedded
  identify:
    by: clientId
    pattern: "^ACME-(?<deviceKey>[0-9A-F]{8})$"
  topics:
    fromDevice: ["acme/+/{deviceKey}/up/+"]
    toDevice: ["acme/+/{deviceKey}/down"]
codec: mapping
capabilities:
  feed: { min: 1, max: 10 }
mapping:
  status: { topic: "acme/AF2/{deviceKey}/up/status", online: "on", offline: "off" }
  dispensed: { topic: "acme/AF2/{deviceKey}/up/dispensed" }
  commands:
    feed: { topic: "acme/AF2/{deviceKey}/down", payload: "feed {portions}" }
`;

/**
 * A device behind a bridge on an external broker, known by its key in the topics; it stores a plan of at
 * most 2 meals that may name weekdays and skip one, but holds no one-offs or pauses.
 */
export function acmeExternalProfile(
  models: Array<{ id: string; name: string }> = [{ id: "ext", name: "EXT" }],
) {
  return `
id: acme-external
name: ACME feeder behind a bridge
vendor: ACME
status: experimental
models:
${models.map((m) => `  - id: ${m.id}\n    name: ${m.name}`).join("\n")}
transport:
  protocol: mqtt
  broker: external
  identify: { by: topic }
  topics:
    fromDevice: ["acme/{deviceKey}/up/+"]
    toDevice: ["acme/{deviceKey}/down"]
codec: mapping
capabilities:
  feed: { min: 1, max: 10 }
  schedule: { storage: device, slots: 2, features: [weekdays, skips] }
mapping:
  status:
    topic: "acme/{deviceKey}/up/status"
    online: "on"
    offline: "off"
    hello: { model: EXT, firmware: "1", capabilities: [feed] }
  dispensed: { topic: "acme/{deviceKey}/up/dispensed" }
  commands:
    feed: { topic: "acme/{deviceKey}/down", payload: "feed {portions}" }
`;
}
