import { z } from "zod";

// Zod compiles object parsers with `new Function` when it can, and decides so when each schema
// is built; the dashboard's CSP forbids eval. This module is imported first, before any schema.
z.config({ jitless: true });
