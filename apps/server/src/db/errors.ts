/** True when a query failed on a unique constraint (PostgreSQL 23505), whichever driver ran it. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  for (let e: unknown = err; e && typeof e === "object"; e = (e as { cause?: unknown }).cause) {
    const { code, constraint: name } = e as { code?: string; constraint?: string };
    if (code === "23505")
      return !constraint || name === constraint || String((e as Error).message).includes(constraint);
  }
  return false;
}

// What pg, the network and PostgreSQL say when the database is away rather than the query wrong:
// refused, reset or timed-out connections, PostgreSQL shutting down (57P01–57P03), too many
// connections (53300), and SQLSTATE class 08 (connection exception).
const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "57P01",
  "57P02",
  "57P03",
  "53300",
]);
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end|PGlite is closed|the database system is (starting up|shutting down|in recovery mode)|\bconnect ECONNREFUSED\b/i;

/**
 * True when a query failed because the database could not be reached (an outage, a restart, a
 * closed pool), whichever driver ran it and however the error was wrapped (Drizzle and Better-Auth
 * keep it as a cause or only in their message): worth a 503 and a retry, not a 500.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length && seen.size < 16) {
    const e = queue.shift();
    if (!e || typeof e !== "object" || seen.has(e)) continue;
    seen.add(e);
    const { code, message, cause, errors } = e as {
      code?: unknown;
      message?: unknown;
      cause?: unknown;
      errors?: unknown;
    };
    if (typeof code === "string" && (UNAVAILABLE_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code)))
      return true;
    if (typeof message === "string" && UNAVAILABLE_MESSAGES.test(message)) return true;
    queue.push(cause);
    if (Array.isArray(errors)) queue.push(...errors);
  }
  return false;
}
