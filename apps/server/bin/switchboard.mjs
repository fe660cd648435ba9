#!/usr/bin/env node
// `switchboard <command>` (`npx switchboard db migrate` from the checkout): builds the server when
// its build is stale, then runs the compiled CLI in this very process, so signals and the exit code
// are the CLI's own. Build messages go to stderr: stdout is the command's answer.
import { buildServerIfNeeded } from "../scripts/build-if-needed.mjs";

await buildServerIfNeeded({ quiet: true, say: (line) => process.stderr.write(`${line}\n`) });
await import("../dist/main.js");
