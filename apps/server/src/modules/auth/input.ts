import type { ProblemIssue } from "@switchboard/shared";
import { defaultStatements } from "better-auth/plugins/organization/access";

const MAX_DEPTH = 6;
const MAX_STRING = 4096;
const MAX_ITEMS = 100;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
/** Characters that make a name read other than it is: bidi controls, zero-width characters, BOM. */
const INVISIBLE = /[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;

type Rule = (value: unknown) => string | null;

const text =
  (max: number, { visible = false }: { visible?: boolean } = {}): Rule =>
  (v) => {
    if (typeof v !== "string") return "must be a string";
    if (v.length > max) return `must be at most ${max} characters`;
    if (CONTROL.test(v)) return "must not contain control characters";
    if (visible && INVISIBLE.test(v)) return "must not contain invisible or direction-changing characters";
    if (visible && v.trim() === "") return "must not be empty";
    return null;
  };
const secret: Rule = (v) =>
  typeof v !== "string"
    ? "must be a string"
    : v.length > 128
      ? "must be at most 128 characters"
      : v.includes("\u0000")
        ? "must not contain NUL"
        : null;

/** The fields Better-Auth's endpoints take that Switchboard bounds before they reach it. */
const RULES: Readonly<Record<string, Rule>> = {
  name: text(100, { visible: true }),
  email: text(254),
  slug: (v) =>
    typeof v !== "string" || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(v)
      ? "must be a slug: lowercase letters, digits and '-', 1-63 characters"
      : null,
  password: secret,
  currentPassword: secret,
  newPassword: secret,
};

/**
 * The rule for a field of that name; only RULES' own keys, so that a key named `__proto__` or
 * `constructor` (any client may send one) finds no rule rather than Object.prototype's members.
 */
const ruleFor = (key: string | undefined): Rule | undefined =>
  key !== undefined && Object.hasOwn(RULES, key) ? RULES[key] : undefined;

/**
 * What is wrong with a body or query meant for Better-Auth, checked before it gets there: a NUL
 * or another control character in any string, a string, list or nesting past sane bounds, a name
 * that is not a visible line of at most 100 characters, a slug that is not one. Better-Auth and
 * the database would otherwise answer some of these with a 500, and store others.
 */
export function authInputIssues(input: unknown, where: "body" | "query"): ProblemIssue[] {
  const issues: ProblemIssue[] = [];
  const walk = (value: unknown, path: string[], depth: number) => {
    if (depth > MAX_DEPTH) {
      issues.push({
        path: [where, ...path].join("."),
        message: `must not be nested deeper than ${MAX_DEPTH}`,
      });
      return;
    }
    if (typeof value === "string") {
      const key = path.at(-1);
      const rule = path.length === 1 || path[0] === "data" ? ruleFor(key) : undefined;
      const problem = rule
        ? rule(value)
        : value.length > MAX_STRING
          ? `must be at most ${MAX_STRING} characters`
          : CONTROL.test(value)
            ? "must not contain control characters"
            : null;
      if (problem) issues.push({ path: [where, ...path].join("."), message: problem });
    } else if (Array.isArray(value)) {
      if (value.length > MAX_ITEMS)
        issues.push({ path: [where, ...path].join("."), message: `at most ${MAX_ITEMS} items` });
      else
        value.forEach((v, i) => {
          walk(v, [...path, String(i)], depth + 1);
        });
    } else if (value && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) {
        // A field Switchboard bounds must be a string when it is sent at all.
        if (
          ruleFor(k) &&
          v !== undefined &&
          typeof v !== "string" &&
          (path.length === 0 || path[0] === "data")
        ) {
          issues.push({ path: [where, ...path, k].join("."), message: "must be a string" });
        } else walk(v, [...path, k], depth + 1);
      }
    }
  };
  walk(input, [], 0);
  return issues.slice(0, 20);
}

const COUNT = /^\d{1,10}$/;
const MAX_COUNT = 2_147_483_647;
/** The member columns Better-Auth can filter on from a query string (text columns only). */
const MEMBER_FILTER_FIELDS = new Set(["id", "userId", "role", "organizationId"]);
const MEMBER_SORT_FIELDS = new Set([...MEMBER_FILTER_FIELDS, "createdAt"]);

/**
 * What is wrong with the query of `/organization/list-members`, which Better-Auth hands to the
 * database as it comes: a fractional, negative or huge limit or offset, a sort or filter on a
 * column that does not exist (or on `createdAt`, whose string it cannot compare), or `in` with
 * one value each answered 500.
 */
function listMembersIssues(query: URLSearchParams): ProblemIssue[] {
  const issues: ProblemIssue[] = [];
  const issue = (name: string, message: string) => issues.push({ path: `query.${name}`, message });
  for (const name of ["limit", "offset"]) {
    const v = query.get(name);
    if (v !== null && (!COUNT.test(v) || Number(v) > MAX_COUNT))
      issue(name, `must be a whole number from 0 to ${MAX_COUNT}`);
  }
  const sortBy = query.get("sortBy");
  if (sortBy !== null && !MEMBER_SORT_FIELDS.has(sortBy))
    issue("sortBy", `must be one of ${[...MEMBER_SORT_FIELDS].join(", ")}`);
  const field = query.get("filterField");
  if (field !== null && !MEMBER_FILTER_FIELDS.has(field))
    issue("filterField", `must be one of ${[...MEMBER_FILTER_FIELDS].join(", ")}`);
  if (field !== null && !query.has("filterValue")) issue("filterValue", "is required with filterField");
  const operator = query.get("filterOperator");
  if ((operator === "in" || operator === "not_in") && query.getAll("filterValue").length < 2)
    issue("filterValue", `must be given at least twice with ${operator} (use eq or ne for one value)`);
  return issues;
}

/** Checks of the query of Better-Auth endpoints that do not check it enough themselves, by path. */
const QUERY_CHECKS: Record<string, (query: URLSearchParams) => ProblemIssue[]> = {
  "/api/auth/organization/list-members": listMembersIssues,
};

/** What is wrong with the query of the Better-Auth endpoint at `pathname`, beyond `authInputIssues`. */
export function authQueryIssues(pathname: string, query: URLSearchParams): ProblemIssue[] {
  return Object.hasOwn(QUERY_CHECKS, pathname) ? (QUERY_CHECKS[pathname]?.(query) ?? []) : [];
}

/** What an organization update may change (Better-Auth drops any other field of `data`). */
const ORGANIZATION_FIELDS = ["name", "slug", "logo", "metadata"];

/** What is wrong with the `permission` or `permissions` of a has-permission question. */
function permissionIssues(body: Record<string, unknown>): ProblemIssue[] {
  const issues: ProblemIssue[] = [];
  for (const field of ["permission", "permissions"]) {
    const asked = body[field];
    if (!asked || typeof asked !== "object" || Array.isArray(asked)) continue;
    for (const resource of Object.keys(asked)) {
      // Better-Auth looks the resource up in a plain object: `valueOf` or `constructor` would find
      // Object.prototype's members there, a 500.
      if (!Object.hasOwn(defaultStatements, resource)) {
        issues.push({
          path: `body.${field}.${resource}`,
          message: `is not a resource: one of ${Object.keys(defaultStatements).join(", ")}`,
        });
      }
    }
  }
  return issues;
}

/**
 * Checks of the body of Better-Auth endpoints that do not check it enough themselves, by path: an
 * organization update with nothing Better-Auth takes in `data` becomes an UPDATE that sets
 * nothing, and a permission question about a resource named like an Object member fails: 500s.
 */
const BODY_CHECKS: Record<string, (body: Record<string, unknown>) => ProblemIssue[]> = {
  "/api/auth/organization/update": ({ data }) =>
    data &&
    typeof data === "object" &&
    !Array.isArray(data) &&
    !ORGANIZATION_FIELDS.some((f) => Object.hasOwn(data, f))
      ? [
          {
            path: "body.data",
            message: `must name at least one field to update: ${ORGANIZATION_FIELDS.join(", ")}`,
          },
        ]
      : [],
  "/api/auth/organization/has-permission": permissionIssues,
};

/** What is wrong with the body of a POST to the Better-Auth endpoint at `pathname`, beyond `authInputIssues`. */
export function authBodyIssues(pathname: string, body: unknown): ProblemIssue[] {
  if (!Object.hasOwn(BODY_CHECKS, pathname) || !body || typeof body !== "object" || Array.isArray(body))
    return [];
  return BODY_CHECKS[pathname]?.(body as Record<string, unknown>) ?? [];
}
