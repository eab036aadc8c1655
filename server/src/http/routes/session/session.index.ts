import { createRouter } from "../../context.js";
import { signIn, signOut, whoAmI } from "./session.handlers.js";
import { deleteSession, getSession, postSession } from "./session.routes.js";

export const sessionRouter = createRouter()
  .openapi(postSession, signIn)
  .openapi(getSession, whoAmI)
  .openapi(deleteSession, signOut);
