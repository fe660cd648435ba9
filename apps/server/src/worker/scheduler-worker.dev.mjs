// The scheduler thread's entry when Switchboard runs from TypeScript source (tests, `tsx`): a
// worker thread does not inherit the parent's TypeScript loader, so it loads tsx itself. The
// compiled build starts dist/scheduler-worker.js instead (see scheduler-thread.ts).
import { tsImport } from "tsx/esm/api";

await tsImport("./scheduler-worker.ts", import.meta.url);
