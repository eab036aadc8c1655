import { createRouter } from "../../context.js";
import { adopt, dismiss, list } from "./pending-devices.handlers.js";
import { deletePendingDevice, listPendingDevices, postAdoptDevice } from "./pending-devices.routes.js";

export const pendingDevicesRouter = createRouter()
  .openapi(listPendingDevices, list)
  .openapi(postAdoptDevice, adopt)
  .openapi(deletePendingDevice, dismiss);
