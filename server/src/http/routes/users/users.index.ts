import { createRouter } from "../../context.js";
import {
  allUsers,
  changePassword,
  changeUser,
  createUser,
  mySessions,
  removeUser,
  revokeSession,
} from "./users.handlers.js";
import {
  deleteSession,
  deleteUser,
  listSessions,
  listUsers,
  patchUser,
  postPassword,
  postUser,
} from "./users.routes.js";

// The password route comes first: /api/users/me/password is not a user id.
export const usersRouter = createRouter()
  .openapi(postPassword, changePassword)
  .openapi(listSessions, mySessions)
  .openapi(deleteSession, revokeSession)
  .openapi(listUsers, allUsers)
  .openapi(postUser, createUser)
  .openapi(patchUser, changeUser)
  .openapi(deleteUser, removeUser);
