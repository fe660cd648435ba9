// Builds the server (scripts/build.mjs) when dist/main.js is missing or older than anything it is
// built from, so that `npm start` runs what the code says without rebuilding on every start.
import { join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { staleness } from "./stale.mjs";

const SERVER_DIR = resolve(fileURLToPath(import.meta.url), "../..");
const REPO = resolve(SERVER_DIR, "../..");
const OUTFILE = join(SERVER_DIR, "dist/main.js");
/** Everything the bundle is made from: its sources, the shared contract, and how it is built. */
const SOURCES = [
  join(SERVER_DIR, "src"),
  join(REPO, "packages/shared/src"),
  join(SERVER_DIR, "scripts/build.mjs"),
  join(SERVER_DIR, "package.json"),
  join(SERVER_DIR, "tsconfig.json"),
  join(REPO, "tsconfig.base.json"),
];

/**
 * Builds the server when its build is stale and returns the path of the bundle. `say` receives a
 * line for whoever started it (the bin passes one that writes to stderr, keeping stdout the CLI's).
 */
export async function buildServerIfNeeded({ say = console.log, quiet = false } = {}) {
  const reason = staleness(OUTFILE, SOURCES, REPO);
  if (reason === null) {
    if (!quiet) say("Server build is up to date.");
    return OUTFILE;
  }
  say(`Building the server: ${reason}…`);
  // Imported only now: a checkout with a current build runs without the build tools.
  const { build } = await import("./build.mjs");
  const ms = await build();
  say(`Built ${relative(REPO, OUTFILE)} in ${Math.round(ms)} ms.`);
  return OUTFILE;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await buildServerIfNeeded();
}
