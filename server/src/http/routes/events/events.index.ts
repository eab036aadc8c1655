import { createRouter } from "../../context.js";
import { events } from "./events.handlers.js";
import { getEvents } from "./events.routes.js";

export const eventsRouter = createRouter().openapi(getEvents, events);
