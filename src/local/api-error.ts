/**
 * Errors the local control plane answers with. They carry what the real envelope needs
 * (the API's error envelope): HTTP status, `error.type`, a human message and, only when the real API
 * has one, a stable `error_code`.
 */

/** An API error as the server reports it; turned into the JSON envelope by the HTTP layer. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly errorCode?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** 400 `invalid_request_error`, optionally with a stable `error_code`. */
export function badRequest(message: string, errorCode?: string): ApiError {
  return new ApiError(400, "invalid_request_error", message, errorCode);
}

/** 404 `not_found_error`. */
export function notFound(message: string): ApiError {
  return new ApiError(404, "not_found_error", message);
}

/**
 * 409. The type is `invalid_request_error`, not `conflict_error`: the API's documentation reports that
 * these endpoints answer conflicts that way, which is why clients must branch on the status.
 */
export function conflict(message: string): ApiError {
  return new ApiError(409, "invalid_request_error", message);
}

/** The `error.type` the real API uses for a status the fault injector produces. */
export function errorTypeForStatus(status: number): string {
  switch (status) {
    case 400:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 404:
      return "not_found_error";
    case 429:
      return "rate_limit_error";
    case 529:
      return "overloaded_error";
    default:
      return "api_error";
  }
}
