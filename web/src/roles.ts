/**
 * What the signed-in user's role lets them do, so the UI offers only what the server would allow
 * (server/src/http/middleware/authorize.ts PERMISSIONS). The server enforces it; this only spares people
 * buttons that would answer "You may not do this."
 */
import type { User } from "./api-types";

export type Role = User["role"];

export const ROLES: readonly Role[] = ["owner", "member", "sitter"];

/** Devices: add feeders, adopt waiting devices, change feeder settings, feed past a safety limit. */
export const canManageDevices = (role: Role) => role === "owner";
/** Meal plans, pets and alerts. */
export const canEditHousehold = (role: Role) => role === "owner" || role === "member";
/** The connection log and the list of users. */
export const canSeeHousehold = (role: Role) => role === "owner" || role === "member";
/** Add, change and remove users. */
export const canManageUsers = (role: Role) => role === "owner";
