/**
 * What the signed-in user's role lets them do, so the UI offers only what the server would allow
 * (server/src/http/middleware/authorize.ts PERMISSIONS). The server enforces it; this only spares people
 * buttons that would answer "You may not do this."
 */
import type { User } from "./api-types";

export type Role = User["role"];

/** From the most allowed to the least. */
export const ROLES: readonly Role[] = ["owner", "member", "sitter"];

/** `role` and those below it: what a user of `role` may give a token (the server refuses more). */
export const rolesUpTo = (role: Role): readonly Role[] => ROLES.slice(ROLES.indexOf(role));

// The roles in words, for the translations to come.
export const ROLE_NAMES = {
  owner: "Owner",
  member: "Member",
  sitter: "Sitter",
} satisfies Record<Role, string>;
export const ROLE_HINTS = {
  owner: "Everything, including feeders, device settings and users.",
  member: "Feeds, meal plans, pets and alerts; sees everything.",
  sitter: "Feeds now within the safety limits and sees status and history; nothing else.",
} satisfies Record<Role, string>;

/** Devices: add feeders, adopt waiting devices, change feeder settings, feed past a safety limit. */
export const canManageDevices = (role: Role) => role === "owner";
/** Meal plans, pets and alerts. */
export const canEditHousehold = (role: Role) => role === "owner" || role === "member";
/** The connection log and the list of users. */
export const canSeeHousehold = (role: Role) => role === "owner" || role === "member";
/** Add, change and remove users; read the audit log. */
export const canManageUsers = (role: Role) => role === "owner";
