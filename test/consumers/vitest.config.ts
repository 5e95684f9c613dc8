/** vitest rooted in test/consumers, running only the vitest file (the other *.test.ts files belong to other runners). */
import { join } from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // vitest keeps its results cache here rather than in a test/consumers/node_modules of its own.
  cacheDir: join(import.meta.dirname, "..", "..", "node_modules", ".vite"),
  test: {
    root: import.meta.dirname,
    include: ["vitest.test.ts"],
    // testProtocol wraps the global timer functions: one test at a time, vitest's default within a file.
    sequence: { concurrent: false },
  },
});
