/**
 * The device profiles this server knows: the built-in ones shipped in
 * device-profiles/ and the owner's own (FEEDKEEPER_PROFILES_DIR). Loaded once
 * at start; broken files are logged with file:line and listed, never fatal.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AppError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { Codec } from "./codecs/codec.js";
import { CODECS } from "./codecs/index.js";
import {
  formatProfileError,
  type LoadedProfiles,
  loadProfiles,
  type ProfileError,
} from "./profile-loader.js";
import type { DeviceProfile } from "./profile-schema.js";

/** Codecs built into the server; a profile names the one that speaks its wire format. */
export const BUILT_IN_CODECS: ReadonlySet<string> = new Set(CODECS.keys());

/** The profile of Feedkeeper's own protocol, the default for a new feeder. */
export const NATIVE_PROFILE_ID = "feedkeeper";

/**
 * The built-in profiles sit beside the built server (dist/server/device-profiles, copied by the build) or,
 * run from source, at the top of the repository.
 */
export function builtInProfilesDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, "device-profiles"), path.resolve(here, "../../../device-profiles")];
  return (
    candidates.find((dir) => fs.existsSync(path.join(dir, `${NATIVE_PROFILE_ID}.yaml`))) ??
    candidates[1] ??
    ""
  );
}

export interface ProfileInfo {
  profile: DeviceProfile;
  file: string;
  builtIn: boolean;
}

export class ProfileRegistry {
  private readonly codecs = new Map<string, Codec>();

  private constructor(private readonly loaded: LoadedProfiles) {}

  static load(dirs: { builtIn: string; user?: string | undefined }, logger: Logger): ProfileRegistry {
    const loaded = loadProfiles(dirs, BUILT_IN_CODECS);
    for (const error of loaded.errors)
      logger.error({ file: error.file }, `device profile skipped: ${formatProfileError(error)}`);
    logger.info(
      { profiles: [...loaded.profiles.keys()], skipped: loaded.errors.length },
      "device profiles loaded",
    );
    return new ProfileRegistry(loaded);
  }

  list(): ProfileInfo[] {
    return [...this.loaded.profiles.values()].sort((a, b) => a.profile.id.localeCompare(b.profile.id));
  }

  get errors(): readonly ProfileError[] {
    return this.loaded.errors;
  }

  find(id: string): DeviceProfile | undefined {
    return this.loaded.profiles.get(id)?.profile;
  }

  /** The codec that speaks this profile's wire format (the loader only accepts profiles naming a built-in one). */
  codecOf(id: string): Codec {
    let codec = this.codecs.get(id);
    if (!codec) {
      const profile = this.require(id);
      const create = CODECS.get(profile.codec);
      if (!create) throw new Error(`profile ${id} names an unknown codec`);
      codec = create(profile);
      this.codecs.set(id, codec);
    }
    return codec;
  }

  require(id: string): DeviceProfile {
    const profile = this.find(id);
    if (!profile) {
      throw new AppError(
        "unknown_profile",
        `Unknown device profile "${id}". Known: ${[...this.loaded.profiles.keys()].join(", ")}.`,
      );
    }
    return profile;
  }
}
