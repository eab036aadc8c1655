import { createRouter } from "../../context.js";
import {
  addOneOff,
  mealCalendar,
  pause,
  readSchedule,
  removeOneOff,
  resume,
  skipNext,
  skipOne,
  unskipOne,
  writeSchedule,
} from "./schedule.handlers.js";
import {
  deleteOneOff,
  deletePause,
  deleteSkip,
  getMealCalendar,
  getSchedule,
  postOneOff,
  postSkipNext,
  putPause,
  putSchedule,
  putSkip,
} from "./schedule.routes.js";

export const scheduleRouter = createRouter()
  .openapi(getSchedule, readSchedule)
  .openapi(putSchedule, writeSchedule)
  .openapi(getMealCalendar, mealCalendar)
  .openapi(postSkipNext, skipNext)
  .openapi(putSkip, skipOne)
  .openapi(deleteSkip, unskipOne)
  .openapi(putPause, pause)
  .openapi(deletePause, resume)
  .openapi(postOneOff, addOneOff)
  .openapi(deleteOneOff, removeOneOff);
