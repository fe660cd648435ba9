import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import {
  accessSync,
  chownSync,
  constants,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { openDatabase } from "../../src/db/client";
import { migrate } from "../../src/db/migrate";

// A PostgreSQL cluster and a Redis of a test file's own, on free loopback ports, that the test may
// stop, kill and start again: the machine's shared ones (5432, 6379) are never touched.

const run = promisify(execFile);

/** Where a program is on PATH, or null. */
function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {}
  }
  return null;
}

/** PG_BIN, else the newest /usr/lib/postgresql/<version>/bin (Debian's layout), else initdb's folder on PATH. */
function postgresBin(): string | null {
  const has = (dir: string) => ["initdb", "pg_ctl", "postgres"].every((p) => existsSync(join(dir, p)));
  if (process.env.PG_BIN) return has(process.env.PG_BIN) ? process.env.PG_BIN : null;
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const v of versions) if (has(join(root, v, "bin"))) return join(root, v, "bin");
  const initdb = onPath("initdb");
  return initdb && has(join(initdb, "..")) ? join(initdb, "..") : null;
}

/** initdb refuses root: as root, the cluster is run as the `postgres` user. */
function postgresUser(): { uid: number; gid: number } | null | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith("postgres:"));
  if (!line) return null;
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

const PG_BIN = postgresBin();
const PG_USER = postgresUser();
const REDIS_SERVER = onPath("redis-server");

/** Why these tests cannot run here, or null when they can. */
export function missingServices({ postgres = true, redis = true } = {}): string | null {
  const missing: string[] = [];
  if (postgres && !PG_BIN) missing.push("PostgreSQL binaries (initdb, pg_ctl; set PG_BIN)");
  if (postgres && PG_USER === null) missing.push("a `postgres` user to run PostgreSQL as (running as root)");
  if (redis && !REDIS_SERVER) missing.push("redis-server on PATH");
  return missing.length ? `needs ${missing.join(" and ")}` : null;
}

/** A port on 127.0.0.1 that nothing listens on right now. */
export const freePort = () =>
  new Promise<number>((done, fail) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
    s.once("error", fail);
  });

/** Whether something accepts connections on 127.0.0.1:port. */
export const listening = (port: number) =>
  new Promise<boolean>((done) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      done(true);
    });
    socket.once("error", () => done(false));
  });

/** Polls `check` every 50 ms until it holds; throws after `ms`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 15_000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Cleans up after this test process once it has gone, however it went (a failed hook, a timeout,
 * a kill): a detached shell waits for it to end, then runs `cleanup`. Cancelled by the test's own
 * clean-up, which comes first when all goes well.
 */
function watchdog(cleanup: string): () => void {
  const shell = spawn(
    "sh",
    ["-c", `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ${cleanup}`],
    {
      detached: true,
      stdio: "ignore",
    },
  );
  shell.unref();
  return () => {
    try {
      if (shell.pid) process.kill(-shell.pid, "SIGKILL");
    } catch {}
  };
}

const quote = (path: string) => `'${path.replaceAll("'", "'\\''")}'`;

export interface Postgres {
  /** postgres://postgres@127.0.0.1:<port>/switchboard, migrated. */
  url: string;
  port: number;
  /** Stops the cluster: `fast` ends every session, `immediate` kills it as a crash would. */
  stop(mode?: "fast" | "immediate"): Promise<void>;
  /** Starts it again on the same port and waits until it accepts connections. */
  start(): Promise<void>;
  /** Stops it and removes its files. */
  close(): Promise<void>;
}

/**
 * A new PostgreSQL cluster in a temporary folder, on a free loopback port only (no Unix socket
 * outside its folder), with a migrated `switchboard` database. fsync is off: a crash of the
 * server process (what the tests cause) loses nothing with it, only a crash of the machine would.
 */
export async function startPostgres(): Promise<Postgres> {
  if (!PG_BIN || PG_USER === null) throw new Error(missingServices({ redis: false }) ?? "no PostgreSQL");
  const bin = (name: string) => join(PG_BIN, name);
  const dir = mkdtempSync(join(tmpdir(), "switchboard-pg-"));
  const data = join(dir, "data");
  const as = PG_USER ? { uid: PG_USER.uid, gid: PG_USER.gid } : {};
  if (PG_USER) chownSync(dir, PG_USER.uid, PG_USER.gid);
  const env = { PATH: process.env.PATH ?? "", LANG: "C", LC_ALL: "C" };
  const pgCtl = (args: string[]) => run(bin("pg_ctl"), ["-D", data, ...args], { ...as, env, cwd: dir });

  await run(
    bin("initdb"),
    ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "--encoding=UTF8", "--locale=C"],
    { ...as, env, cwd: dir },
  );
  let port = 0;
  const start = async () => {
    const options = [
      `-p ${port}`,
      "-c listen_addresses=127.0.0.1",
      `-c unix_socket_directories=${dir}`,
      "-c fsync=off",
      "-c max_connections=100",
    ].join(" ");
    await pgCtl(["-l", join(dir, "log"), "-o", options, "-w", "-t", "30", "start"]);
  };
  // A port taken between choosing and binding it: choose another.
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      await start();
      break;
    } catch (err) {
      if (attempt >= 2) {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }
  // SIGQUIT is PostgreSQL's immediate shutdown; postmaster.pid names the server of the moment.
  const pidFile = quote(join(data, "postmaster.pid"));
  const cancelWatchdog = watchdog(
    `[ -f ${pidFile} ] && kill -QUIT "$(head -1 ${pidFile})"; sleep 2; rm -rf ${quote(dir)}`,
  );

  const admin = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const url = `postgres://postgres@127.0.0.1:${port}/switchboard`;
  const setup = await openDatabase({ kind: "postgres", url: admin, poolSize: 1 });
  await setup.db.execute("CREATE DATABASE switchboard");
  await setup.close();
  const database = await openDatabase({ kind: "postgres", url, poolSize: 1 });
  await migrate(database.db);
  await database.close();

  return {
    url,
    port,
    stop: async (mode = "fast") => {
      await pgCtl(["-m", mode, "-w", "-t", "30", "stop"]);
    },
    start,
    close: async () => {
      await pgCtl(["-m", "immediate", "-w", "stop"]).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
      cancelWatchdog();
    },
  };
}

export interface RedisServer {
  url: string;
  port: number;
  /** Kills it (SIGKILL: no goodbye to its clients) and waits for it to be gone. */
  stop(): Promise<void>;
  /** Starts a new, empty one on the same port and waits until it answers. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** A redis-server of the test's own on a free loopback port, keeping nothing on disk. */
export async function startRedis(): Promise<RedisServer> {
  if (!REDIS_SERVER) throw new Error("redis-server is not on PATH");
  const dir = mkdtempSync(join(tmpdir(), "switchboard-redis-"));
  let port = await freePort();
  let child: ChildProcess | null = null;
  let output = "";

  const start = async () => {
    output = "";
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
    const proc = spawn(REDIS_SERVER, [...args, "--dir", dir, "--daemonize", "no"], { stdio: "pipe" });
    child = proc;
    writeFileSync(join(dir, "redis.pid"), String(proc.pid));
    proc.stdout?.on("data", (d) => {
      output += d;
    });
    proc.stderr?.on("data", (d) => {
      output += d;
    });
    const exited = new Promise<void>((done) => proc.once("exit", () => done()));
    await Promise.race([
      until("redis-server to listen", () => output.includes("Ready to accept connections"), 10_000),
      exited.then(() => {
        throw new Error(`redis-server exited: ${output}`);
      }),
    ]);
  };
  const stop = async () => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((done) => proc.once("exit", () => done()));
    proc.kill("SIGKILL");
    await gone;
  };
  for (let attempt = 0; ; attempt++) {
    try {
      await start();
      break;
    } catch (err) {
      await stop();
      if (attempt >= 2) throw err;
      port = await freePort();
    }
  }
  const pidFile = quote(join(dir, "redis.pid"));
  const cancelWatchdog = watchdog(`kill -KILL "$(cat ${pidFile})"; rm -rf ${quote(dir)}`);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    start,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
      cancelWatchdog();
    },
  };
}

const SERVER_DIR = join(import.meta.dirname, "../..");

/** Builds dist/main.js when it is missing or older than its sources, as `npm start` does. */
export function buildServer() {
  execFileSync(process.execPath, [join(SERVER_DIR, "scripts/build-if-needed.mjs")], { stdio: "ignore" });
}

export interface Switchboard {
  base: string;
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr. */
  output(): string;
  /** Its log lines, parsed. */
  logs(): Record<string, unknown>[];
  /** Resolves to its exit code once it has exited. */
  exit: Promise<number | null>;
  /** Kills it, if it still runs. */
  kill(): Promise<void>;
}

/** The compiled server (`node dist/main.js start`) on a free loopback port, up and answering. */
export async function startSwitchboard(env: Record<string, string>): Promise<Switchboard> {
  const port = await freePort();
  const child = spawn(process.execPath, ["dist/main.js", "start"], {
    cwd: SERVER_DIR,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      NODE_ENV: "production",
      HOST: "127.0.0.1",
      PORT: String(port),
      LOG_LEVEL: "info",
      // MCP servers in these tests are on 127.0.0.1.
      ALLOW_PRIVATE_TARGETS: "true",
      DATA_DIR: mkdtempSync(join(tmpdir(), "switchboard-faults-")),
      // An empty dashboard folder: these tests need the API only.
      WEB_DIST: mkdtempSync(join(tmpdir(), "switchboard-faults-web-")),
      // Processes run side by side: none holds the default metrics port.
      METRICS_PORT: "0",
      ...env,
    },
  });
  let out = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    out += d;
  });
  const exit = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGKILL");
    await exit;
  };
  const cancelWatchdog = watchdog(`kill -KILL ${child.pid}`);
  let exited = false;
  void exit.then(() => {
    exited = true;
    cancelWatchdog();
  });
  try {
    await until(
      "Switchboard to start",
      () => {
        if (exited) throw new Error(`Switchboard exited at start:\n${out}`);
        return out.includes("Switchboard is up");
      },
      60_000,
    );
  } catch (err) {
    await kill();
    throw err;
  }
  return {
    base: `http://127.0.0.1:${port}`,
    child,
    output: () => out,
    // Whole lines only: the last one may still be being written.
    logs: () =>
      out
        .slice(0, out.lastIndexOf("\n") + 1)
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    exit,
    kill,
  };
}
