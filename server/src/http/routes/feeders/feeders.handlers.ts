import type { RouteHandler } from "@hono/zod-openapi";
import { topics } from "../../../protocol/native-v1.js";
import { type AppEnv, currentUser } from "../../context.js";
import { feederJson, outlook } from "../../feeder-json.js";
import { presentFeeder } from "../../presenters.js";
import type {
  deleteFeeder,
  getFeeder,
  listFeeders,
  patchFeeder,
  postFeeder,
  postFeederCredentials,
} from "./feeders.routes.js";

function credentialsJson(feederId: string, password: string | undefined) {
  if (password === undefined) return null;
  return { username: feederId, clientId: feederId, password, topicRoot: topics.root(feederId) };
}

export const createFeeder: RouteHandler<typeof postFeeder, AppEnv> = (c) => {
  const services = c.get("services");
  const { feeder, password } = services.feeders.create({
    ...c.req.valid("json"),
    householdId: currentUser(c).householdId,
  });
  return c.json(
    { feeder: feederJson(services, feeder.id), credentials: credentialsJson(feeder.id, password) },
    201,
  );
};

export const allFeeders: RouteHandler<typeof listFeeders, AppEnv> = (c) => {
  const services = c.get("services");
  const { householdId } = currentUser(c);
  const latest = services.feeds.latestOfEachFeeder();
  const open = services.alerts.openByFeeder(householdId);
  return c.json(
    {
      feeders: services.feeders
        .list(householdId)
        .map((f) => presentFeeder(f, latest.get(f.id), outlook(services, f, open.get(f.id) ?? 0))),
    },
    200,
  );
};

export const oneFeeder: RouteHandler<typeof getFeeder, AppEnv> = (c) =>
  c.json({ feeder: feederJson(c.get("services"), c.req.valid("param").id) }, 200);

export const changeFeeder: RouteHandler<typeof patchFeeder, AppEnv> = (c) => {
  const services = c.get("services");
  const { id } = c.req.valid("param");
  services.feeders.update(id, c.req.valid("json"));
  return c.json({ feeder: feederJson(services, id) }, 200);
};

export const removeFeeder: RouteHandler<typeof deleteFeeder, AppEnv> = (c) => {
  const services = c.get("services");
  const { id } = c.req.valid("param");
  services.feeders.remove(id);
  services.disconnect({ feederId: id });
  services.changes.publish(currentUser(c).householdId, { kind: "feeders" });
  return c.body(null, 204);
};

export const rotateCredentials: RouteHandler<typeof postFeederCredentials, AppEnv> = (c) => {
  const services = c.get("services");
  const { id } = c.req.valid("param");
  const password = services.feeders.rotateCredentials(id);
  services.disconnect({ feederId: id });
  return c.json({ feeder: feederJson(services, id), credentials: credentialsJson(id, password) }, 201);
};
