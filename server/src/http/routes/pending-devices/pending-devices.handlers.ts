import type { RouteHandler } from "@hono/zod-openapi";
import type { PendingDevice } from "../../../bridge/pending-devices.js";
import { AppError } from "../../../errors.js";
import { type AppEnv, currentUser, type Services } from "../../context.js";
import { feederJson } from "../../feeder-json.js";
import type { deletePendingDevice, listPendingDevices, postAdoptDevice } from "./pending-devices.routes.js";

function present(p: PendingDevice) {
  const { secretHash: _, ...rest } = p;
  return {
    ...rest,
    address: p.address ?? null,
    suggestedModel: p.suggestedModel ?? null,
    firstSeenAt: new Date(p.firstSeenAt).toISOString(),
    lastSeenAt: new Date(p.lastSeenAt).toISOString(),
  };
}

function requirePending(services: Services, id: string): PendingDevice {
  const held = services.pending.get(id);
  if (!held) throw new AppError("pending_not_found");
  return held;
}

export const list: RouteHandler<typeof listPendingDevices, AppEnv> = (c) =>
  c.json({ devices: c.get("services").pending.list().map(present) }, 200);

export const adopt: RouteHandler<typeof postAdoptDevice, AppEnv> = (c) => {
  const services = c.get("services");
  const { id } = c.req.valid("param");
  const held = requirePending(services, id);
  const body = c.req.valid("json");
  const { feeder } = services.feeders.create({
    ...body,
    // Waiting devices belong to no household until adopted: into the adopter's.
    householdId: currentUser(c).householdId,
    profile: held.profile,
    model: body.model ?? held.suggestedModel,
    adoption: { deviceKey: held.deviceKey, secretHash: held.secretHash },
  });
  services.pending.remove(id);
  services.disconnect({ pendingId: id });
  services.logger.info(
    { feederId: feeder.id, profile: held.profile, deviceKey: held.deviceKey },
    "device adopted",
  );
  return c.json({ feeder: feederJson(services, feeder.id) }, 201);
};

export const dismiss: RouteHandler<typeof deletePendingDevice, AppEnv> = (c) => {
  const services = c.get("services");
  const { id } = c.req.valid("param");
  requirePending(services, id);
  services.pending.remove(id);
  services.disconnect({ pendingId: id });
  return c.body(null, 204);
};
