/**
 * A small valid device profile, as an owner would write one: 17 lines, `max: 12` on line 17 at column 10, so
 * tests can break it and know where the loader must point.
 */
export const PROFILE_YAML = `id: acme-bowl
name: Acme Bowl
vendor: Acme
status: experimental
models:
  - id: ab1
    name: Acme Bowl 1
transport:
  protocol: mqtt
  broker: embedded
  identify:
    by: credentials
codec: native-v1
capabilities:
  feed:
    min: 1
    max: 12
`;
