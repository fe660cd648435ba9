import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { inject } from "vitest";
import { type Database, openDatabase, PGLITE_EXTENSIONS } from "../src/db/client";
import { adminQuery, withDatabase } from "./global-setup";

export type DbKind = "pglite" | "postgres";

/** PGlite always; PostgreSQL too when TEST_DATABASE_URL is set (CI sets it). */
export function testDatabaseKinds(): DbKind[] {
  return inject("pgTemplate") ? ["pglite", "postgres"] : ["pglite"];
}

/**
 * A fresh, migrated database of its own for one test file: a PGlite loaded from the run's template,
 * or a PostgreSQL database cloned from the template database and dropped on close.
 */
export async function openTestDatabase(kind: DbKind): Promise<Database & { url?: string }> {
  if (kind === "pglite") {
    const template = new Blob([readFileSync(inject("pgliteTemplate"))]);
    const client = await PGlite.create({ loadDataDir: template, extensions: PGLITE_EXTENSIONS });
    return openDatabase({ kind: "pglite", client });
  }
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error("TEST_DATABASE_URL is not set");
  const name = `${inject("runId")}_${randomBytes(4).toString("hex")}`;
  await adminQuery(url, `CREATE DATABASE "${name}" TEMPLATE "${inject("pgTemplate")}"`);
  const database = await openDatabase({ kind: "postgres", url: withDatabase(url, name), poolSize: 5 });
  return {
    ...database,
    url: withDatabase(url, name),
    close: async () => {
      await database.close();
      await adminQuery(url, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}
