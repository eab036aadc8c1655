/** The shipped device profiles, loaded once for unit tests the way the server loads them. */
import pino from "pino";
import { builtInProfilesDir, ProfileRegistry } from "../profiles/profile-registry.js";

let registry: ProfileRegistry | undefined;

export function shippedProfiles(): ProfileRegistry {
  registry ??= ProfileRegistry.load({ builtIn: builtInProfilesDir() }, pino({ level: "silent" }));
  return registry;
}
