/**
 * Reads device profiles from YAML files. A broken file is reported with its
 * path, line and column and what is wrong, and skipped: the other profiles
 * still load. A user's profile never silently replaces a built-in one: the
 * same id twice is an error naming both files.
 */
import fs from "node:fs";
import path from "node:path";
import { isMap, isNode, isScalar, LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import { type DeviceProfile, profileSchema } from "./profile-schema.js";

export interface ProfileError {
  file: string;
  line: number;
  column: number;
  message: string;
}

export interface LoadedProfiles {
  profiles: Map<string, { profile: DeviceProfile; file: string; builtIn: boolean }>;
  errors: ProfileError[];
}

export function formatProfileError(e: ProfileError): string {
  return `${e.file}:${e.line}:${e.column}: ${e.message}`;
}

/** Parses and validates one profile file's text. */
export function parseProfile(
  file: string,
  text: string,
  knownCodecs: ReadonlySet<string>,
): { profile: DeviceProfile } | { errors: ProfileError[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined, message: string): ProfileError => {
    const pos = lines.linePos(offset ?? 0);
    return { file, line: pos.line, column: pos.col, message };
  };
  if (doc.errors.length > 0)
    return { errors: doc.errors.map((e) => at(e.pos[0], e.message.split("\n")[0] ?? "")) };
  const parsed = profileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    return { errors: parsed.error.issues.map((issue) => at(offsetOf(doc, issue), describe(issue))) };
  }
  if (!knownCodecs.has(parsed.data.codec)) {
    const node = doc.get("codec", true);
    return {
      errors: [
        at(
          isNode(node) ? node.range?.[0] : undefined,
          `codec: unknown codec "${parsed.data.codec}"; built in: ${[...knownCodecs].join(", ")}`,
        ),
      ],
    };
  }
  return { profile: parsed.data };
}

/** Every `*.yaml` profile in the built-in directory and, if given, the user's directory. */
export function loadProfiles(
  dirs: { builtIn: string; user?: string | undefined },
  knownCodecs: ReadonlySet<string>,
): LoadedProfiles {
  const result: LoadedProfiles = { profiles: new Map(), errors: [] };
  for (const [dir, builtIn] of [
    [dirs.builtIn, true],
    [dirs.user, false],
  ] as const) {
    if (!dir) continue;
    let names: string[];
    try {
      names = fs
        .readdirSync(dir)
        .filter((n) => n.endsWith(".yaml") || n.endsWith(".yml"))
        .sort();
    } catch (err) {
      result.errors.push({
        file: dir,
        line: 0,
        column: 0,
        message: `cannot read the directory: ${(err as Error).message}`,
      });
      continue;
    }
    for (const name of names) {
      const file = path.join(dir, name);
      const outcome = parseProfile(file, fs.readFileSync(file, "utf8"), knownCodecs);
      if ("errors" in outcome) {
        result.errors.push(...outcome.errors);
        continue;
      }
      const { profile } = outcome;
      const earlier = result.profiles.get(profile.id);
      if (earlier) {
        result.errors.push({
          file,
          line: 1,
          column: 1,
          message: `id: "${profile.id}" is already defined by ${earlier.file}; give this profile another id (profiles never replace each other)`,
        });
        continue;
      }
      result.profiles.set(profile.id, { profile, file, builtIn });
    }
  }
  return result;
}

/** Where in the YAML the issue's path points: the deepest node that exists. */
function offsetOf(doc: ReturnType<typeof parseDocument>, issue: z.core.$ZodIssue): number | undefined {
  const keys = issue.path.map((p) => (typeof p === "symbol" ? String(p) : p));
  // An unknown key is reported at the key itself.
  if (issue.code === "unrecognized_keys") {
    const parent = doc.getIn(keys, true);
    if (isMap(parent)) {
      const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === issue.keys[0]);
      if (pair && isScalar(pair.key)) return pair.key.range?.[0];
    }
  }
  for (let n = keys.length; n >= 0; n--) {
    const node = doc.getIn(keys.slice(0, n), true);
    if (isNode(node)) return node.range?.[0];
  }
  return undefined;
}

function describe(issue: z.core.$ZodIssue): string {
  const where = issue.path.join(".");
  return where ? `${where}: ${issue.message}` : issue.message;
}
