import pino, { type BaseLogger, type Bindings, type ChildLoggerOptions } from "pino";
import type { Config } from "../config";

/** The logger services and jobs write to: a pino logger, or a request's child of one. */
export interface Logger
  extends Pick<BaseLogger, "level" | "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent"> {
  child(bindings: Bindings, options?: ChildLoggerOptions): Logger;
}

/** Paths whose values never reach a log line. */
export const LOG_REDACT = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  "headers",
  "*.headers[*].value",
  "key",
  "*.key",
  "token",
  "*.token",
  "password",
  "*.password",
];

/** Text from a failed query with its parameters (session tokens, key hashes) cut off. */
const withoutParams = (text: unknown) =>
  typeof text === "string" ? text.replace(/\s*params:[\s\S]*$/, " [params redacted]") : text;

/**
 * Errors as pino writes them, minus what a failed query carries: its parameters are values
 * (session tokens among them) that must never reach a log line, in the message, the stack or a
 * `params` field, however deep in the causes.
 */
export function serializeError(err: unknown): unknown {
  const scrub = (value: unknown, depth: number): unknown => {
    if (typeof value === "string") return withoutParams(value);
    if (!value || typeof value !== "object" || depth > 6) return value;
    if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => k !== "params")
        .map(([k, v]) => [k, scrub(v, depth + 1)]),
    );
  };
  return scrub(pino.stdSerializers.err(err as Error), 0);
}

export function createLogger(config: Config, stream?: { write(line: string): void }): Logger {
  const options = {
    level: config.logLevel,
    redact: { paths: LOG_REDACT, censor: "[redacted]" },
    serializers: { err: serializeError },
  };
  return stream ? pino(options, stream) : pino(options);
}
