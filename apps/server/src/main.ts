import { parseArgs } from "node:util";
import pino from "pino";
import { probeCommand } from "./cli/probe";
import { exportCommand, importCommand, type WithRuntime } from "./cli/registry";
import { isClusterWorker, startCluster, startClusterWorker } from "./cluster";
import { ConfigError, loadConfig } from "./config";
import { migrate, rollback } from "./db/migrate";
import { startDemo } from "./demo/run";
import { createLogger } from "./lib/log";
import { createRuntime, openConfiguredDatabase } from "./runtime";
import { startServer } from "./server";
import { startWorker } from "./worker/run";

const USAGE = `Usage: switchboard <command>

  start                    migrate the database, then serve the API and dashboard (and run health checks
                           unless SCHEDULER=off); WEB_CONCURRENCY=N serves from N worker processes
  worker                   run only the health scheduler
  demo                     start with a demo user, organization and three local MCP servers
  db migrate               apply pending migrations
  db rollback [--to V]     roll back the newest migration, or every one after version V (e.g. 0000);
                           --to none rolls back everything
  probe <url> [options]    probe one MCP server as the health checks do, and print the verdict
                           (switchboard probe --help)
  export --org <slug> [--out file]
                           write the organization's servers as server.json documents
  import <file|url> --org <slug> [--dry-run]
                           import server.json documents, or a /v0.1 registry's servers, into the
                           organization (switchboard import --help)
`;

async function main(argv: string[]) {
  const [command, sub, ...rest] = argv;
  // Needs no data directory, database or secrets: it only speaks to the server it is given.
  if (command === "probe") {
    process.exitCode = await probeCommand(argv.slice(1), (text) => process.stdout.write(text));
    return;
  }
  const config = loadConfig();

  const start = isClusterWorker()
    ? startClusterWorker
    : config.webConcurrency > 1
      ? startCluster
      : startServer;
  const run = { start, worker: startWorker, demo: startDemo }[command as "start" | "worker" | "demo"];
  if (run) {
    const running = await run(config);
    const { log } = running.runtime;
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, "shutting down");
      const force = setTimeout(() => {
        log.error("shutdown took longer than 15 s; exiting");
        process.exit(1);
      }, 15_000);
      force.unref();
      running.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err }, "shutdown failed");
          process.exit(1);
        },
      );
    };
    process.on("SIGTERM", () => shutdown("SIGTERM"));
    process.on("SIGINT", () => shutdown("SIGINT"));
    return;
  }

  if (command === "export" || command === "import") {
    // Acts on the database directly, as the operator: migrated first, as \`start\` does. Log lines
    // go to stderr, so that stdout is the command's answer (an export can be piped).
    const withRuntime: WithRuntime = async (fn) => {
      const runtime = await createRuntime(config, { logStream: process.stderr });
      try {
        await migrate(runtime.db);
        return await fn(runtime);
      } finally {
        await runtime.close();
      }
    };
    const run = command === "export" ? exportCommand : importCommand;
    process.exitCode = await run(argv.slice(1), withRuntime, (text) => process.stdout.write(text));
    return;
  }

  if (command === "db" && (sub === "migrate" || sub === "rollback")) {
    const { values } = parseArgs({ args: rest, options: { to: { type: "string" } } });
    const database = await openConfiguredDatabase(config, createLogger(config));
    try {
      if (sub === "migrate") {
        const applied = await migrate(database.db);
        // The command's answer, as its usage is: a line for whoever ran it, not a log record.
        process.stdout.write(`${applied.length ? `Applied: ${applied.join(", ")}` : "Nothing to migrate"}\n`);
      } else {
        const to = values.to === undefined ? undefined : values.to === "none" ? null : values.to;
        const rolled = await rollback(database.db, { to });
        process.stdout.write(
          `${rolled.length ? `Rolled back: ${rolled.join(", ")}` : "Nothing to roll back"}\n`,
        );
      }
    } finally {
      await database.close();
    }
    return;
  }

  process.stderr.write(USAGE);
  process.exitCode = 2;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
  else pino().fatal({ err }, "switchboard stopped on an error");
  process.exit(1);
});
