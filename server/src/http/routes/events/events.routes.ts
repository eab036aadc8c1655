import { createRoute, z } from "@hono/zod-openapi";
import { errorResponses } from "../../schemas.js";

export const getEvents = createRoute({
  method: "get",
  path: "/api/events",
  tags: ["Feeders"],
  summary: "Live changes (server-sent events)",
  description: [
    "A `text/event-stream` that says what changed in the caller's household, so a UI can fetch it again at once instead of polling:",
    '`event: change` with `data: [{"kind":"feeder","feederId":"…"}, {"kind":"feeders"}, {"kind":"alerts"}]` —',
    "a feeder's connection, readings, settings or one of its feeds (`feeder`), feeders added or removed (`feeders`), alerts raised or acknowledged (`alerts`).",
    "It names what to fetch and carries no data. Changes are batched per moment; the first event is `ready`.",
    "A comment line is sent every 25 s to keep proxies from closing the stream; the stream ends when the session or token it was opened with ends.",
    "At most 10 streams per user and 200 in all.",
  ].join(" "),
  responses: {
    200: {
      description: "The stream",
      content: { "text/event-stream": { schema: z.string() } },
    },
    ...errorResponses(401, 429),
  },
});
