import { type AppError, ERRORS, type ErrorCode } from "../errors.js";

export function errorBody(code: ErrorCode, message?: string, details?: unknown) {
  return {
    error: { code, message: message ?? ERRORS[code].message, ...(details !== undefined && { details }) },
  };
}

export function appErrorBody(err: AppError) {
  return errorBody(err.code, err.message, err.details);
}
