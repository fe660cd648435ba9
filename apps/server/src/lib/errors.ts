import { type ErrorCode, errorStatus, type ProblemIssue } from "@switchboard/shared";

/** The one error type services throw; the error handler turns it into problem+json. */
export class AppError extends Error {
  override name = "AppError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues?: ProblemIssue[],
  ) {
    super(message);
  }

  get status(): number {
    return errorStatus[this.code];
  }
}

export const notFound = (what: string) => new AppError("NOT_FOUND", `${what} was not found`);
export const forbidden = (detail: string) => new AppError("FORBIDDEN", detail);
