import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = resolve(import.meta.dirname, "../src");

/** Every non-test source file, with the relative path of each module it imports. */
function sources(): { file: string; imports: string[] }[] {
  const out: { file: string; imports: string[] }[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) {
        const text = readFileSync(path, "utf8");
        const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?from\s+"([^"]+)"/g)].map(
          (m) => m[1] as string,
        );
        const imports = specifiers.map((s) =>
          s.startsWith(".") ? relative(SRC, resolve(dirname(path), s)) : s,
        );
        out.push({ file: relative(SRC, path), imports });
      }
    }
  };
  walk(SRC);
  return out;
}

const files = sources();
const moduleOf = (path: string) => /^modules\/([^/]+)\//.exec(path)?.[1];
const violations = (rule: (file: string, imported: string) => boolean) =>
  files.flatMap(({ file, imports }) => imports.filter((i) => rule(file, i)).map((i) => `${file} → ${i}`));

describe("the server's layers", () => {
  it("reads its own sources", () => {
    expect(files.length).toBeGreaterThan(40);
    expect(files.find((f) => f.file === "app.ts")?.imports).toContain("runtime");
  });

  it("never imports a module from lib/, plugins/ or db/", () => {
    expect(violations((file, i) => /^(lib|plugins|db)\//.test(file) && i.startsWith("modules/"))).toEqual([]);
  });

  it("never lets a module import another module's repository", () => {
    expect(
      violations((file, i) => {
        const repoOf = /^modules\/([^/]+)\/repo$/.exec(i)?.[1];
        return repoOf !== undefined && moduleOf(file) !== repoOf;
      }),
    ).toEqual([]);
  });

  it("uses Drizzle only in repositories and db/", () => {
    expect(
      violations(
        (file, i) => i.startsWith("drizzle-orm") && !file.startsWith("db/") && !file.endsWith("/repo.ts"),
      ),
    ).toEqual([]);
  });

  it("keeps HTTP out of services and repositories", () => {
    expect(
      violations((file, i) => /\/(service|repo)\.ts$/.test(file) && /^(fastify|@fastify\/)/.test(i)),
    ).toEqual([]);
  });
});
