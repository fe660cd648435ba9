import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { openDatabase, PGLITE_EXTENSIONS } from "../src/db/client";
import { migrate } from "../src/db/migrate";

declare module "vitest" {
  export interface ProvidedContext {
    /** Path of a gzipped PGlite data directory with every migration applied. */
    pgliteTemplate: string;
    /** Name of a migrated PostgreSQL template database, or "" when TEST_DATABASE_URL is unset. */
    pgTemplate: string;
    /** Unique per run: prefixes databases and Redis keys so runs never collide. */
    runId: string;
  }
}

/** Migrates once per run; every test file then clones these templates instead of migrating. */
export default async function setup(project: TestProject) {
  const runId = `sbt_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  const dir = mkdtempSync(join(tmpdir(), "switchboard-test-"));

  const client = await PGlite.create({ extensions: PGLITE_EXTENSIONS });
  const database = await openDatabase({ kind: "pglite", client });
  await migrate(database.db);
  const dump = await client.dumpDataDir("gzip");
  const pgliteTemplate = join(dir, "pglite-template.tar.gz");
  writeFileSync(pgliteTemplate, Buffer.from(await dump.arrayBuffer()));
  await database.close();

  let pgTemplate = "";
  const url = process.env.TEST_DATABASE_URL;
  if (url) {
    pgTemplate = `${runId}_tpl`;
    await adminQuery(url, `CREATE DATABASE "${pgTemplate}"`);
    const tpl = await openDatabase({ kind: "postgres", url: withDatabase(url, pgTemplate), poolSize: 1 });
    await migrate(tpl.db);
    await tpl.close();
  }

  project.provide("pgliteTemplate", pgliteTemplate);
  project.provide("pgTemplate", pgTemplate);
  project.provide("runId", runId);

  return async () => {
    rmSync(dir, { recursive: true, force: true });
    if (url && pgTemplate) await adminQuery(url, `DROP DATABASE IF EXISTS "${pgTemplate}" WITH (FORCE)`);
  };
}

export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function adminQuery(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
