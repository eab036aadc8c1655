import { createRouter } from "../../context.js";
import { runSetup, setupState } from "./setup.handlers.js";
import { getSetup, postSetup } from "./setup.routes.js";

export const setupRouter = createRouter().openapi(getSetup, setupState).openapi(postSetup, runSetup);
