import { createRouter } from "../../context.js";
import { mealCalendar, readSchedule, writeSchedule } from "./schedule.handlers.js";
import { getMealCalendar, getSchedule, putSchedule } from "./schedule.routes.js";

export const scheduleRouter = createRouter()
  .openapi(getSchedule, readSchedule)
  .openapi(putSchedule, writeSchedule)
  .openapi(getMealCalendar, mealCalendar);
