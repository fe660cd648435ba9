// Builds the dashboard when its build is missing or older than any of its sources, so that
// `npm start` serves what the code says without rebuilding on every start.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const web = join(dirname(fileURLToPath(import.meta.url)), "..");
const built = join(web, "dist/index.html");
const sources = [
  join(web, "src"),
  join(web, "index.html"),
  join(web, "vite.config.ts"),
  join(web, "../../packages/shared/src"),
];

const newest = (path) => {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((f) => newest(join(path, f))));
};

if (!existsSync(built) || Math.max(...sources.filter(existsSync).map(newest)) > statSync(built).mtimeMs) {
  console.log("Building the dashboard…");
  execFileSync(
    process.execPath,
    [join(web, "../../node_modules/vite/bin/vite.js"), "build", "--logLevel", "warn"],
    {
      cwd: web,
      stdio: "inherit",
    },
  );
} else {
  console.log("Dashboard build is up to date.");
}
