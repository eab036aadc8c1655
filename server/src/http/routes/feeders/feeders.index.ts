import { createRouter } from "../../context.js";
import { allFeeders, createFeeder, oneFeeder, removeFeeder, rotateCredentials } from "./feeders.handlers.js";
import { deleteFeeder, getFeeder, listFeeders, postFeeder, postFeederCredentials } from "./feeders.routes.js";

export const feedersRouter = createRouter()
  .openapi(postFeeder, createFeeder)
  .openapi(listFeeders, allFeeders)
  .openapi(getFeeder, oneFeeder)
  .openapi(deleteFeeder, removeFeeder)
  .openapi(postFeederCredentials, rotateCredentials);
