// Bundles the server's CLI (src/main.ts) into dist/main.js, the JavaScript production runs: Node
// runs it without tsx. Dependencies stay in node_modules, imported at run time; the workspace's
// own @switchboard/shared is bundled, since its package exports TypeScript source.
//
//   node apps/server/scripts/build.mjs     always builds; build-if-needed.mjs builds only when stale
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const SERVER_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const ENTRY = join(SERVER_DIR, "src/main.ts");
export const OUTFILE = join(SERVER_DIR, "dist/main.js");
/** The health probes' worker thread, started by src/modules/health/probe-thread.ts beside main.js. */
const PROBE_WORKER = join(SERVER_DIR, "src/modules/health/probe-worker.ts");
/** The health scheduler's worker thread, started by src/worker/scheduler-thread.ts beside main.js. */
const SCHEDULER_WORKER = join(SERVER_DIR, "src/worker/scheduler-worker.ts");
const REPO = resolve(SERVER_DIR, "../..");

/** Workspace packages are bundled from source; every other package is left to node_modules. */
const workspacePackages = {
  name: "workspace-packages",
  setup(build) {
    build.onResolve({ filter: /^@switchboard\// }, (args) => ({
      path: createRequire(args.importer).resolve(args.path),
    }));
  },
};

/**
 * A bundle puts every module in one file, so `import.meta.url` would name dist/main.js for all of
 * them, and a module that finds files beside itself (db/migrate.ts: ../../drizzle; config.ts:
 * ../../web/dist) would look in the wrong place. This gives each bundled module the location of its
 * own source file, relative to the bundle, so paths resolve exactly as they do from source.
 */
const ownImportMeta = {
  name: "own-import-meta",
  setup(build) {
    const { outdir } = build.initialOptions;
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      if (!args.path.startsWith(REPO + sep) || args.path.includes(`${sep}node_modules${sep}`))
        return undefined;
      const source = readFileSync(args.path, "utf8");
      if (!/\bimport\.meta\.(url|dirname|filename)\b/.test(source)) return undefined;
      const own = `new URL(${JSON.stringify(relative(outdir, args.path).split(sep).join("/"))}, import.meta.url)`;
      const helpers = [
        /\bimport\.meta\.(dirname|filename)\b/.test(source) &&
          'import { fileURLToPath as __ownPath } from "node:url";',
        /\bimport\.meta\.dirname\b/.test(source) && 'import { dirname as __ownDirname } from "node:path";',
      ];
      const contents = `${helpers.filter(Boolean).join("\n")}\n${source
        .replace(/\bimport\.meta\.url\b/g, `${own}.href`)
        .replace(/\bimport\.meta\.filename\b/g, `__ownPath(${own})`)
        .replace(/\bimport\.meta\.dirname\b/g, `__ownDirname(__ownPath(${own}))`)}`;
      return { contents, loader: "ts", resolveDir: dirname(args.path) };
    });
  },
};

/** Builds dist/main.js and its threads' entries (with source maps); returns the milliseconds it took. */
export async function build() {
  const started = performance.now();
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    entryPoints: { main: ENTRY, "probe-worker": PROBE_WORKER, "scheduler-worker": SCHEDULER_WORKER },
    outdir: dirname(OUTFILE),
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    packages: "external",
    // Linked, not inline: stack traces stay cheap unless someone runs with --enable-source-maps.
    sourcemap: "linked",
    sourcesContent: false,
    legalComments: "none",
    logLevel: "warning",
    write: false,
    plugins: [workspacePackages, ownImportMeta],
  });
  // Written beside and renamed into place, map first: a process starting meanwhile never reads a
  // half-written bundle, and a bundle newer than its sources always has its map.
  mkdirSync(dirname(OUTFILE), { recursive: true });
  const files = [...result.outputFiles].sort((a) => (a.path.endsWith(".map") ? -1 : 1));
  for (const file of files) {
    const partial = `${file.path}.${process.pid}.tmp`;
    writeFileSync(partial, file.contents);
    renameSync(partial, file.path);
  }
  return performance.now() - started;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const ms = await build();
  console.log(`Built ${relative(process.cwd(), OUTFILE) || OUTFILE} in ${Math.round(ms)} ms.`);
}
