import type { RouteHandler } from "@hono/zod-openapi";
import { AppError } from "../../../errors.js";
import { type AppEnv, currentUser } from "../../context.js";
import { presentFeed } from "../../presenters.js";
import type { getFeed, listFeederFeeds, postFeed } from "./feeds.routes.js";

export const feedNow: RouteHandler<typeof postFeed, AppEnv> = (c) => {
  const { id } = c.req.valid("param");
  const body = c.req.valid("json");
  const user = currentUser(c);
  // Today every account is an owner; a future role must not inherit the right to bypass safety limits.
  if (body.override && user.role !== "owner") {
    throw new AppError("forbidden", "Only an owner may override a feeder's safety limits.");
  }
  const { feed } = c.get("services").feeds.request({
    feederId: id,
    portions: body.portions,
    expiresInSeconds: body.expiresInSeconds,
    idempotencyKey: c.req.valid("header")["idempotency-key"],
    requestedBy: user.id,
    override: body.override,
  });
  return c.json({ feed: presentFeed(feed) }, 202);
};

export const oneFeed: RouteHandler<typeof getFeed, AppEnv> = (c) =>
  c.json({ feed: presentFeed(c.get("services").feeds.require(c.req.valid("param").feedId)) }, 200);

export const feederHistory: RouteHandler<typeof listFeederFeeds, AppEnv> = (c) => {
  const services = c.get("services");
  const { id } = c.req.valid("param");
  const { limit, before } = c.req.valid("query");
  services.feeders.require(id);
  const feeds = services.feeds.listForFeeder(id, { limit, before: before ? new Date(before) : undefined });
  return c.json({ feeds: feeds.map(presentFeed) }, 200);
};
