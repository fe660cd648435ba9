import { chmodSync, existsSync, lstatSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** What `secureDataDir` changed: how many directories and files were open to others, and what it could not fix. */
export interface DataDirFix {
  directories: number;
  files: number;
  failed: string[];
}

const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;
/** The umask under which everything the process creates is its user's alone. */
export const PRIVATE_UMASK = 0o077;

/**
 * Makes `dir` and everything under it private to this user: directories 0700, files 0600 (only
 * entries with a group or other bit set are changed). Symbolic links under it are not followed.
 * Does nothing when `dir` does not exist.
 */
export function secureDataDir(dir: string): DataDirFix {
  const fix: DataDirFix = { directories: 0, files: 0, failed: [] };
  if (!existsSync(dir)) return fix;
  const visit = (path: string, isRoot: boolean) => {
    let st: ReturnType<typeof statSync>;
    try {
      // DATA_DIR itself may be a link to where the data lives; what is under it is not followed.
      st = isRoot ? statSync(path) : lstatSync(path);
    } catch {
      return; // gone meanwhile
    }
    if (st.isSymbolicLink()) return;
    const directory = st.isDirectory();
    if ((st.mode & 0o077) !== 0) {
      try {
        chmodSync(path, directory ? PRIVATE_DIR : PRIVATE_FILE);
        if (directory) fix.directories++;
        else fix.files++;
      } catch {
        fix.failed.push(path);
      }
    }
    if (!directory) return;
    let names: string[];
    try {
      names = readdirSync(path);
    } catch {
      fix.failed.push(path);
      return;
    }
    for (const name of names) visit(join(path, name), false);
  };
  visit(dir, true);
  return fix;
}
