import { z } from "zod";

// Zod compiles object parsers with `new Function` when it can, and decides so when each schema
// is built; the dashboard's CSP forbids eval. The build puts this module in Zod's own chunk (see
// vite.config.ts), so it runs before any schema is built; main.tsx imports it first for the dev server.
z.config({ jitless: true });
