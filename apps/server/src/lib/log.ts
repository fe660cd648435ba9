import type { BaseLogger, Bindings, ChildLoggerOptions } from "pino";

/** The logger services and jobs write to: a pino logger, or a request's child of one. */
export interface Logger
  extends Pick<BaseLogger, "level" | "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent"> {
  child(bindings: Bindings, options?: ChildLoggerOptions): Logger;
}
