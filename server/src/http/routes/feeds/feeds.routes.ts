import { createRoute, z } from "@hono/zod-openapi";
import { errorResponses, FeederIdParam, FeedIdParam, FeedSchema, NewFeedSchema } from "../../schemas.js";

export const postFeed = createRoute({
  method: "post",
  path: "/api/feeders/{id}/feeds",
  tags: ["Feeds"],
  summary: "Feed now",
  description:
    "Queues a feed command and answers at once with 202. Follow it at `GET /api/feeds/{feedId}`: pending → sent → accepted → dispensed | failed | expired | timed_out. Send an `Idempotency-Key` header to make retries safe: the same key within 24 h returns the first feed instead of feeding again. A feed beyond the feeder's safety limits (`dailyMaxPortions` per local day from all sources, `minFeedIntervalSeconds` between remote feeds) is refused with 409 `safety_limit`; an owner may send `override: true` to feed anyway.",
  request: {
    params: FeederIdParam,
    headers: z.object({
      "idempotency-key": z
        .string()
        .min(1)
        .max(200, "Idempotency-Key must be at most 200 characters")
        .regex(/^[\x21-\x7e]+$/, "Idempotency-Key must be printable ASCII without spaces")
        .optional()
        .openapi({ description: "Makes retries safe: the same key within 24 h returns the first feed." }),
    }),
    body: { required: true, content: { "application/json": { schema: NewFeedSchema } } },
  },
  responses: {
    202: {
      description: "Accepted for delivery (or the earlier feed with the same Idempotency-Key)",
      content: { "application/json": { schema: z.object({ feed: FeedSchema }) } },
    },
    ...errorResponses(400, 401, 403, 404, 409, 422),
  },
});

export const getFeed = createRoute({
  method: "get",
  path: "/api/feeds/{feedId}",
  tags: ["Feeds"],
  summary: "One feed and where it is in its lifecycle",
  request: { params: FeedIdParam },
  responses: {
    200: {
      description: "The feed",
      content: { "application/json": { schema: z.object({ feed: FeedSchema }) } },
    },
    ...errorResponses(401, 404),
  },
});

export const listFeederFeeds = createRoute({
  method: "get",
  path: "/api/feeders/{id}/feeds",
  tags: ["Feeds"],
  summary: "A feeder's feed history, newest first",
  request: {
    params: FeederIdParam,
    query: z.object({
      limit: z.coerce.number().int().min(1).max(500).default(50),
      before: z.iso.datetime().optional().openapi({ description: "Only feeds requested before this time" }),
    }),
  },
  responses: {
    200: {
      description: "Feeds",
      content: { "application/json": { schema: z.object({ feeds: z.array(FeedSchema) }) } },
    },
    ...errorResponses(400, 401, 404),
  },
});
