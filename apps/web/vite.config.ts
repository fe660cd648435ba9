import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [react(), tailwindcss()],
  server: {
    port: 5173,
    proxy: {
      "/api": "http://localhost:3000",
      "/mcp": { target: "http://localhost:3000", ws: true },
      "/gateway": "http://localhost:3000",
    },
  },
  build: {
    outDir: "dist",
    sourcemap: true,
    rollupOptions: {
      output: {
        // Zod and the line that turns its eval-compiled parsers off share one chunk, which every
        // module that builds a schema imports and so runs after: wherever the bundler puts a
        // schema, it is built jitless, and the CSP (no eval) is never tripped.
        manualChunks: (id) =>
          id.includes("/node_modules/zod/") || id.endsWith("/src/lib/zod-config.ts") ? "zod" : undefined,
      },
    },
  },
});
