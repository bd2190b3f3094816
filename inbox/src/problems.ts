/** What went wrong, in words for the person using the app. */
import { Code, typedError } from "@parley/sdk";

export function problem(reason: unknown): string {
  const error = typedError(reason);
  if (error.code === Code.Unauthenticated) return "The token is not valid (or has expired).";
  if (error.code === Code.PermissionDenied) return `Not allowed: ${error.rawMessage}`;
  return error.rawMessage || String(reason);
}
