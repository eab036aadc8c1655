import { createRouter } from "../../context.js";
import {
  allChannels,
  changeChannel,
  channelDeliveries,
  createChannel,
  removeChannel,
  testChannel,
} from "./notification-channels.handlers.js";
import {
  deleteChannel,
  listChannels,
  listDeliveries,
  patchChannel,
  postChannel,
  postTest,
} from "./notification-channels.routes.js";

export const notificationChannelsRouter = createRouter()
  .openapi(listChannels, allChannels)
  .openapi(postChannel, createChannel)
  .openapi(patchChannel, changeChannel)
  .openapi(deleteChannel, removeChannel)
  .openapi(postTest, testChannel)
  .openapi(listDeliveries, channelDeliveries);
