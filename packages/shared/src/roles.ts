import { z } from "zod";

/** A member's role in an organization (tenant). */
export const Role = z.enum(["owner", "admin", "member"]);
export type Role = z.infer<typeof Role>;

/** Owners and admins manage; members read. */
export const MANAGER_ROLES: readonly Role[] = ["owner", "admin"];
