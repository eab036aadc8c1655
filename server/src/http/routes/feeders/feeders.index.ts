import { createRouter } from "../../context.js";
import {
  allFeeders,
  changeFeeder,
  createFeeder,
  oneFeeder,
  removeFeeder,
  rotateCredentials,
} from "./feeders.handlers.js";
import {
  deleteFeeder,
  getFeeder,
  listFeeders,
  patchFeeder,
  postFeeder,
  postFeederCredentials,
} from "./feeders.routes.js";

export const feedersRouter = createRouter()
  .openapi(postFeeder, createFeeder)
  .openapi(listFeeders, allFeeders)
  .openapi(getFeeder, oneFeeder)
  .openapi(patchFeeder, changeFeeder)
  .openapi(deleteFeeder, removeFeeder)
  .openapi(postFeederCredentials, rotateCredentials);
