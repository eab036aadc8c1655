import { createRouter } from "../../context.js";
import { createToken, revokeToken, tokensOfUser } from "./tokens.handlers.js";
import { deleteToken, listTokens, postToken } from "./tokens.routes.js";

export const tokensRouter = createRouter()
  .openapi(postToken, createToken)
  .openapi(listTokens, tokensOfUser)
  .openapi(deleteToken, revokeToken);
