import type { Problem } from "@switchboard/shared";

/** A failed API call, carrying the server's problem+json. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Partial<Problem> & { message?: string },
    readonly retryAfterSeconds: number | null,
  ) {
    super(problem.detail ?? problem.message ?? `Request failed (${status})`);
  }
}

/** What to tell a person about a failure, including when to retry after a 429. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 429) return `Too many requests: try again in ${err.retryAfterSeconds ?? 60} seconds.`;
    return err.message;
  }
  if (err instanceof TypeError) return "Switchboard is unreachable: check your connection.";
  return err instanceof Error ? err.message : String(err);
}

/** Calls the API with the session cookie; JSON in, JSON out, problem+json thrown as ApiError. */
export async function api<T>(
  path: string,
  opts: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<T> {
  const res = await fetch(path, {
    method: opts.method ?? "GET",
    credentials: "same-origin",
    headers: { ...(opts.body !== undefined ? { "content-type": "application/json" } : {}), ...opts.headers },
    body: opts.body !== undefined ? JSON.stringify(opts.body) : null,
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const retry = res.headers.get("retry-after");
    throw new ApiError(res.status, data ?? {}, retry ? Number(retry) : null);
  }
  return data as T;
}

/** Maps the server's `issues` (`body.name`) onto form fields (`name`). */
export function fieldIssues(err: unknown): { field: string; message: string }[] {
  if (!(err instanceof ApiError) || !err.problem.issues) return [];
  return err.problem.issues
    .filter((i) => i.path.startsWith("body."))
    .map((i) => ({ field: i.path.slice("body.".length), message: i.message }));
}
