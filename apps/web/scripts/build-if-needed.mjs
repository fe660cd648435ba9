// Builds the dashboard when its build is missing or older than any of its sources, so that
// `npm start` serves what the code says without rebuilding on every start. With WEB_DIST set the
// server serves that folder instead, so there is nothing here to build.
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { staleness } from "../../server/scripts/stale.mjs";

const web = join(dirname(fileURLToPath(import.meta.url)), "..");
const repo = join(web, "../..");
const sources = [
  join(web, "src"),
  join(web, "index.html"),
  join(web, "vite.config.ts"),
  join(web, "package.json"),
  join(repo, "packages/shared/src"),
];

const reason = process.env.WEB_DIST ? null : staleness(join(web, "dist/index.html"), sources, repo);
if (process.env.WEB_DIST) {
  console.log(`Serving the dashboard from WEB_DIST (${process.env.WEB_DIST}); not building apps/web.`);
} else if (reason) {
  console.log(`Building the dashboard: ${reason}…`);
  execFileSync(
    process.execPath,
    [join(repo, "node_modules/vite/bin/vite.js"), "build", "--logLevel", "warn"],
    {
      cwd: web,
      stdio: "inherit",
    },
  );
} else {
  console.log("Dashboard build is up to date.");
}
