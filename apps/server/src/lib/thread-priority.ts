import { readlinkSync } from "node:fs";
import { getPriority, setPriority } from "node:os";

/**
 * Lowers the calling thread's CPU priority by `by` (nice, at most 19). Linux sets one thread's
 * priority by its id, which /proc/thread-self names; elsewhere the thread keeps the process's.
 */
export function lowerThreadPriority(by: number) {
  try {
    const thread = Number(readlinkSync("/proc/thread-self").split("/").pop());
    setPriority(thread, Math.min(19, getPriority(thread) + by));
  } catch {}
}
