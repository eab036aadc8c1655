/**
 * What the signed-in user's role lets them do, so the UI offers only what the server would allow
 * (server/src/http/middleware/authorize.ts PERMISSIONS). The server enforces it; this only spares people
 * buttons that would answer "You may not do this."
 */
import type { User } from "./api-types";
import { localized } from "./i18n";

export type Role = User["role"];

/** From the most allowed to the least. */
export const ROLES: readonly Role[] = ["owner", "member", "sitter"];

/** `role` and those below it: what a user of `role` may give a token (the server refuses more). */
export const rolesUpTo = (role: Role): readonly Role[] => ROLES.slice(ROLES.indexOf(role));

/** The roles in words, in the UI's language. */
export const ROLE_NAMES = localized({
  en: {
    owner: "Owner",
    member: "Member",
    sitter: "Sitter",
  } satisfies Record<Role, string>,
  ja: {
    owner: "オーナー",
    member: "メンバー",
    sitter: "シッター",
  },
});
export const ROLE_HINTS = localized({
  en: {
    owner: "Everything, including feeders, device settings and users.",
    member: "Feeds, meal plans, pets and alerts; sees everything.",
    sitter: "Feeds now within the safety limits and sees status and history; nothing else.",
  } satisfies Record<Role, string>,
  ja: {
    owner: "給餌器、デバイスの設定、ユーザーを含め、すべての操作ができます。",
    member: "給餌、給餌プラン、ペット、アラートを扱え、すべてを閲覧できます。",
    sitter: "安全上限の範囲内で今すぐ給餌でき、状態と履歴を閲覧できます。それ以外はできません。",
  },
});

/** Devices: add feeders, adopt waiting devices, change feeder settings, feed past a safety limit. */
export const canManageDevices = (role: Role) => role === "owner";
/** Meal plans, pets and alerts. */
export const canEditHousehold = (role: Role) => role === "owner" || role === "member";
/** The connection log and the list of users. */
export const canSeeHousehold = (role: Role) => role === "owner" || role === "member";
/** Add, change and remove users; read the audit log. */
export const canManageUsers = (role: Role) => role === "owner";
