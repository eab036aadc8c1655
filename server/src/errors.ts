/**
 * The one catalogue of errors the API can answer with. Every error response
 * is `{"error":{"code","message"}}` (+ `details` for validation), and the
 * code → HTTP status mapping lives only here.
 */
export const ERRORS = {
  validation_failed: { status: 400, message: "The request is not valid." },
  unauthorized: { status: 401, message: "Sign in or send an API token." },
  invalid_credentials: { status: 401, message: "Wrong username or password." },
  forbidden: { status: 403, message: "You may not do this." },
  origin_mismatch: { status: 403, message: "Cross-site request refused." },
  not_found: { status: 404, message: "Not found." },
  feeder_not_found: { status: 404, message: "No feeder with this id." },
  feed_not_found: { status: 404, message: "No feed with this id." },
  token_not_found: { status: 404, message: "No API token with this id." },
  meal_not_found: { status: 404, message: "No meal with this id on this feeder." },
  alert_not_found: { status: 404, message: "No alert with this id." },
  meal_not_planned: { status: 409, message: "That meal is not planned then." },
  pet_not_found: { status: 404, message: "No pet with this id." },
  user_not_found: { status: 404, message: "No user with this id." },
  session_not_found: { status: 404, message: "No session of yours with this id." },
  username_taken: { status: 409, message: "That username is taken." },
  last_owner: {
    status: 409,
    message:
      "This is the only owner: make someone else an owner first, or the household has nobody to run it.",
  },
  pending_not_found: {
    status: 404,
    message:
      "No pending device with this id (adopted, dismissed, or expired an hour after it was last seen).",
  },
  setup_already_done: { status: 409, message: "Setup is already done; sign in instead." },
  idempotency_conflict: {
    status: 409,
    message: "This Idempotency-Key was already used for a different request.",
  },
  safety_limit: {
    status: 409,
    message: "This would exceed the feeder's safety limits; an owner may override them.",
  },
  portions_out_of_range: { status: 422, message: "Portions are outside this feeder's allowed range." },
  unknown_profile: { status: 422, message: "Unknown device profile." },
  unknown_pet: { status: 422, message: "No pet with this id to link the feeder to." },
  device_taken: { status: 409, message: "A feeder for this device already exists." },
  adoption_required: {
    status: 422,
    message: "These devices bring their own credentials: adopt them from the pending devices.",
  },
  external_broker_missing: {
    status: 422,
    message: "This profile needs an external MQTT broker (FEEDKEEPER_MQTT_URL).",
  },
  schedule_unsupported: {
    status: 422,
    message: "This feeder stores its meal plan itself and cannot hold this.",
  },
  no_issued_credentials: {
    status: 422,
    message: "This feeder logs in with its own credentials; Feedkeeper issues none for it.",
  },
  too_many_attempts: {
    status: 429,
    message: "Too many failed sign-in attempts from here; wait a while (see Retry-After) and try again.",
  },
  too_many_streams: {
    status: 429,
    message: "Too many live update streams are open (10 per user, 200 in all); close some tabs.",
  },
  payload_too_large: { status: 413, message: "The request body is too large." },
  backup_invalid: {
    status: 422,
    message: "This is not a usable Feedkeeper backup (damaged, cut short or altered); nothing was changed.",
  },
  backup_too_new: {
    status: 422,
    message: "This backup was made by a newer Feedkeeper; upgrade this server first. Nothing was changed.",
  },
  restore_in_progress: { status: 409, message: "A restore is already under way." },
  restore_unavailable: {
    status: 503,
    message: "This server cannot restart itself to restore; stop it and run `feedkeeper restore <file>`.",
  },
  notification_channel_not_found: { status: 404, message: "No notification channel with this id." },
  too_many_notification_channels: {
    status: 409,
    message: "This household has 20 notification channels, the most there may be; delete one first.",
  },
  internal: { status: 500, message: "Something went wrong on the server." },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details?: unknown,
  ) {
    super(message ?? ERRORS[code].message);
    this.name = "AppError";
    this.status = ERRORS[code].status;
  }
}
