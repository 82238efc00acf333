// The gateway's pages, built into gateway/static/dist and served by Starlette at
// /static/dist/ (see gateway/web.py): graphiql.html (GraphiQL, served at /graphql), map.html
// (the data map, at /map) and vendors.html (the vendor managers' console, at /vendors).
// Everything they load is bundled here: no CDN.
import { resolve } from "node:path";
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

export default defineConfig({
  base: "/static/dist/",
  plugins: [react()],
  build: {
    outDir: resolve(import.meta.dirname, "../gateway/static/dist"),
    emptyOutDir: true,
    chunkSizeWarningLimit: 6000, // Monaco (GraphiQL's editor) is large by nature
    rollupOptions: {
      // React-compiler output in @graphiql/react carries "use no memo" directives the bundler drops: harmless noise
      onwarn(warning, warn) {
        if (warning.code !== "MODULE_LEVEL_DIRECTIVE") warn(warning);
      },
      input: {
        graphiql: resolve(import.meta.dirname, "graphiql.html"),
        map: resolve(import.meta.dirname, "map.html"),
        vendors: resolve(import.meta.dirname, "vendors.html"),
      },
    },
  },
  worker: { format: "es" },
});
