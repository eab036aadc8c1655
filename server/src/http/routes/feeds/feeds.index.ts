import { createRouter } from "../../context.js";
import { feederHistory, feedNow, oneFeed } from "./feeds.handlers.js";
import { getFeed, listFeederFeeds, postFeed } from "./feeds.routes.js";

export const feedsRouter = createRouter()
  .openapi(postFeed, feedNow)
  .openapi(getFeed, oneFeed)
  .openapi(listFeederFeeds, feederHistory);
