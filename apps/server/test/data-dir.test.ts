import { chmodSync, lstatSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config";
import { createRuntime } from "../src/runtime";

/** Every entry under `dir` (itself included) as `d700`/`f600` and a path, symbolic links left out. */
function modes(dir: string): { path: string; mode: string }[] {
  const out: { path: string; mode: string }[] = [];
  const visit = (path: string) => {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return;
    out.push({ path, mode: `${st.isDirectory() ? "d" : "f"}${(st.mode & 0o777).toString(8)}` });
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(dir);
  return out;
}
const loose = (dir: string) => modes(dir).filter((e) => e.mode !== "d700" && e.mode !== "f600");

/** Starts on DATA_DIR with the embedded database and generated secrets, as `npm start` does, and stops. */
async function startAndStop(dataDir: string) {
  const logs: { level: number; msg: string; directories?: number; files?: number }[] = [];
  const config = loadConfig({ NODE_ENV: "test", DATA_DIR: dataDir, LOG_LEVEL: "info", SCHEDULER: "off" });
  const runtime = await createRuntime(config, {
    logStream: { write: (line) => logs.push(JSON.parse(line)) },
  });
  const whileRunning = loose(dataDir);
  await runtime.close();
  return { logs, whileRunning };
}

describe("DATA_DIR permissions", () => {
  let umask: number;
  let root: string;
  beforeAll(() => {
    // A common default, under which files were created 0644/0666 and directories 0755.
    umask = process.umask(0o022);
    root = mkdtempSync(join(tmpdir(), "switchboard-datadir-"));
  });
  afterAll(() => {
    process.umask(umask);
  });

  it("creates a fresh DATA_DIR, its database and its secrets for this user only, without a warning", async () => {
    const dataDir = join(root, "fresh");
    const { logs, whileRunning } = await startAndStop(dataDir);
    expect(whileRunning).toEqual([]);
    expect(loose(dataDir)).toEqual([]);
    const all = modes(dataDir);
    expect(all.find((e) => e.path === dataDir)?.mode).toBe("d700");
    expect(all.filter((e) => e.mode === "f600").length).toBeGreaterThan(100); // PGlite's files
    expect(all.find((e) => e.path === join(dataDir, "auth-secret"))?.mode).toBe("f600");
    expect(all.find((e) => e.path === join(dataDir, "secrets-key"))?.mode).toBe("f600");
    expect(logs.filter((l) => /DATA_DIR/.test(l.msg))).toEqual([]);
    // Everything the process creates from now on is private too.
    const mask = process.umask(0o077);
    process.umask(mask);
    expect(mask).toBe(0o077);
  });

  it("makes an existing DATA_DIR open to others private at start, and says so", async () => {
    const dataDir = join(root, "existing");
    await startAndStop(dataDir);
    // As an earlier version left it: directories 0755, files 0666.
    process.umask(0o022);
    for (const { path, mode } of modes(dataDir)) chmodSync(path, mode.startsWith("d") ? 0o755 : 0o666);
    writeFileSync(join(dataDir, "notes.txt"), "left by an operator\n", { mode: 0o644 });
    const before = modes(dataDir);
    expect(before.every((e) => e.mode === "d755" || e.mode === "f666" || e.mode === "f644")).toBe(true);

    const { logs, whileRunning } = await startAndStop(dataDir);
    expect(whileRunning).toEqual([]);
    expect(loose(dataDir)).toEqual([]);
    const warning = logs.find((l) => /DATA_DIR was open to other users/.test(l.msg));
    expect(warning).toMatchObject({
      level: 40,
      directories: before.filter((e) => e.mode === "d755").length,
      files: before.filter((e) => e.mode.startsWith("f")).length,
    });
  });
});
