import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";

/** Linux reports process times in clock ticks of 1/100 s (USER_HZ) on every common architecture. */
const TICK_MS = 10;

/**
 * User + system CPU, in ms, of a process from its /proc stat line, with that of the children it
 * has reaped: PostgreSQL's postmaster reaps each backend whose connection closed, so a backend's
 * CPU still counts once it is gone.
 */
function statCpuMs(stat: string): number {
  // "pid (comm) state ppid …": utime, stime, cutime and cstime are the 12th to 15th fields after the comm.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) * TICK_MS;
}

/** User + system CPU, in ms, of the processes `pids` (Linux only; 0 for one that is gone). */
export function pidsCpuMs(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      total += statCpuMs(readFileSync(`/proc/${pid}/stat`, "utf8"));
    } catch {
      // gone, or not Linux
    }
  }
  return total;
}

/** User + system CPU, in ms, of the running processes whose command name is `name` (Linux only). */
function processCpuMs(name: string): number | null {
  if (!existsSync("/proc/self/stat")) return null;
  let total = 0;
  let found = false;
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // gone since the listing
    }
    if (stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")) !== name) continue;
    total += statCpuMs(stat);
    found = true;
  }
  return found ? total : null;
}

export interface CpuSpent {
  /** This process: the server under load, or the scheduler (and PGlite when it is embedded). */
  selfMs: number;
  /** PostgreSQL's processes on this machine; null when none is visible (PGlite, or a remote server). */
  postgresMs: number | null;
}

/**
 * Starts counting the CPU time this process spends, and a local PostgreSQL's when the benchmark
 * runs on one; the returned function stops and reads it. Where a benchmark misses a target, the
 * CPU per request shows whether the machine could have done better at all.
 */
export function startCpuMeter({ postgres: counted }: { postgres: boolean }): () => CpuSpent {
  const self = ownCpuMs();
  const postgres = counted ? processCpuMs("postgres") : null;
  return () => {
    const postgresNow = counted ? processCpuMs("postgres") : null;
    return {
      selfMs: ownCpuMs() - self,
      postgresMs: postgres === null || postgresNow === null ? null : Math.max(0, postgresNow - postgres),
    };
  };
}

/** This process's own CPU time so far, in ms (a child reports it to its parent). */
export function ownCpuMs(): number {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
}

/**
 * How long this machine takes now for a fixed piece of work (hashing 32 MiB), in ms, the median of
 * five: on a shared virtual machine the same code runs slower while its neighbours are busy, so
 * rows of different runs compare only where this is alike.
 */
export function timeFixedWork(): number {
  const data = Buffer.alloc(1 << 20, 7);
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    for (let j = 0; j < 32; j++) createHash("sha256").update(data).digest();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return Math.round((times[2] ?? 0) * 100) / 100;
}
