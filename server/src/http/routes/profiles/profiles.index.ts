import { createRouter } from "../../context.js";
import { list } from "./profiles.handlers.js";
import { listProfiles } from "./profiles.routes.js";

export const profilesRouter = createRouter().openapi(listProfiles, list);
