// When a build is out of date: shared by the server's and the dashboard's `build:if-needed`, so that
// `npm start` rebuilds what changed and nothing else.
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

/** The newest modification time under `path` (a file or a folder, walked), or 0 when it is absent. */
export function newestMtime(path) {
  let s;
  try {
    s = statSync(path);
  } catch (err) {
    if (err.code === "ENOENT") return 0;
    throw err;
  }
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(s.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

/**
 * Why `output` must be built again ("no build yet", or which source changed, named relative to
 * `root`), or null when it is newer than every one of `sources`. A folder's own time counts too,
 * so deleting or renaming a file in it makes the build stale.
 */
export function staleness(output, sources, root = process.cwd()) {
  const built = newestMtime(output);
  if (built === 0) return "no build yet";
  const changed = sources.find((source) => newestMtime(source) > built);
  return changed ? `${relative(root, changed)} changed` : null;
}
