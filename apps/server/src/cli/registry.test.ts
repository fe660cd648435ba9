import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { as, createTenant, createTestApp, type Tenant, type TestApp } from "../../test/app";
import { officialEntry, type RegistryFixture, startRegistryFixture } from "../../test/registry-fixture";
import { checkServerJson } from "../../test/registry-format";
import { queryRows } from "../db/client";
import { exportCommand, importCommand, type WithRuntime } from "./registry";

/*
 * The commands run in-process on a test app's runtime (the database and effects `switchboard
 * export|import` open for themselves). Imported servers point at example.com: never probed.
 */

describe("switchboard export and import", () => {
  let t: TestApp;
  let a: Tenant;
  let b: Tenant;
  let slugA: string;
  let slugB: string;
  let registry: RegistryFixture;
  const dir = mkdtempSync(join(tmpdir(), "switchboard-cli-"));

  const withRuntime: WithRuntime = (fn) => fn(t.runtime);
  const run = async (command: typeof exportCommand, args: string[]) => {
    let output = "";
    const code = await command(args, withRuntime, (text) => {
      output += text;
    });
    return { code, output };
  };
  const slugOf = async (id: string) =>
    (await queryRows<{ slug: string }>(t.database.db, sql`SELECT slug FROM organization WHERE id = ${id}`))[0]
      ?.slug ?? "";

  beforeAll(async () => {
    t = await createTestApp("pglite");
    a = await createTenant(t.app);
    b = await createTenant(t.app);
    slugA = await slugOf(a.orgId);
    slugB = await slugOf(b.orgId);
    for (const name of ["alpha", "beta"]) {
      const res = await as(
        t.app,
        a.owner,
      )({
        method: "POST",
        url: "/mcp/servers",
        payload: {
          name,
          url: `http://127.0.0.1:9/${name}`,
          headers: [{ name: "X-Key", value: "cli-secret" }],
        },
      });
      expect(res.statusCode).toBe(201);
    }
    registry = await startRegistryFixture({
      entries: [
        officialEntry({
          name: "io.github.example/remote-one",
          description: "One.",
          version: "1.0.0",
          remotes: [{ type: "streamable-http", url: "https://one.example.com/mcp" }],
        }),
      ],
    });
  });
  afterAll(async () => {
    await registry.close();
    await t.close();
  });

  it("exports an organization's servers to a file, as valid server.json without header values", async () => {
    const file = join(dir, "servers.json");
    const { code, output } = await run(exportCommand, ["--org", slugA, "--out", file]);
    expect(code).toBe(0);
    expect(output).toBe(`Exported 2 servers to ${file}\n`);
    const text = readFileSync(file, "utf8");
    expect(text).not.toContain("cli-secret");
    const docs = JSON.parse(text);
    expect(docs.map((d: { name: string }) => d.name)).toEqual([`${slugA}/alpha`, `${slugA}/beta`]);
    for (const doc of docs) expect(checkServerJson(doc).valid).toBe(true);
    const stdout = await run(exportCommand, ["--org", slugA]);
    expect(JSON.parse(stdout.output)).toEqual(docs);
  });

  it("previews, then imports a file into another organization, audited with the actor cli", async () => {
    const file = join(dir, "servers.json");
    const preview = await run(importCommand, [file, "--org", slugB, "--dry-run"]);
    expect(preview.code).toBe(0);
    expect(preview.output).toContain(
      "Dry run, nothing written: 2 created, 0 updated, 0 unchanged, 0 skipped",
    );
    const done = await run(importCommand, [file, "--org", slugB]);
    expect(done.code).toBe(0);
    expect(done.output).toMatch(/created\s+alpha\s+\S+\/alpha \(needs configuration\)/);
    const rows = await queryRows<{
      action: string;
      actor_type: string;
      actor_id: string;
      changes: { source?: string };
    }>(
      t.database.db,
      sql`SELECT action, actor_type, actor_id, changes FROM audit_logs WHERE tenant_id = ${b.orgId} AND action IN ('server.create', 'server.import') ORDER BY created_at`,
    );
    expect(rows.map((r) => [r.action, r.actor_type, r.actor_id])).toEqual([
      ["server.create", "system", "cli"],
      ["server.import", "system", "cli"],
      ["server.create", "system", "cli"],
      ["server.import", "system", "cli"],
    ]);
    expect(rows[1]?.changes.source).toBe("cli");
  });

  it("imports from a registry URL", async () => {
    const { code, output } = await run(importCommand, [registry.url, "--org", slugB, "--json"]);
    expect(code).toBe(0);
    expect(JSON.parse(output)).toMatchObject({ pages: 1, counts: { created: 1 } });
    expect(registry.requests).toEqual(["/v0.1/servers?limit=100&version=latest"]);
  });

  it("says what is wrong with a file that is not server.json, and imports nothing", async () => {
    const file = join(dir, "bad.json");
    writeFileSync(file, JSON.stringify({ name: "com.example/x", description: "", version: "1" }));
    const { code, output } = await run(importCommand, [file, "--org", slugB]);
    expect(code).toBe(1);
    expect(output).toContain("body.source.description");
    const notJson = join(dir, "not.json");
    writeFileSync(notJson, "{");
    expect((await run(importCommand, [notJson, "--org", slugB])).output).toContain("is not JSON");
  });

  it("answers usage errors and unknown organizations with their exit codes", async () => {
    expect((await run(importCommand, ["--org", slugB])).code).toBe(64);
    expect((await run(exportCommand, [])).code).toBe(64);
    expect((await run(importCommand, ["x.json", "--org", slugB, "--var", "novalue"])).code).toBe(64);
    const unknown = await run(exportCommand, ["--org", "no-such-org"]);
    expect(unknown).toEqual({ code: 1, output: "error: No organization has the slug no-such-org\n" });
  });
});
