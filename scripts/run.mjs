#!/usr/bin/env node
/**
 * Runs a TypeScript file on the Node.js that runs this script, including
 * Node.js 20, which cannot strip types: the file is bundled with esbuild into
 * .test-build/ and imported, with the remaining arguments left in argv.
 * Usage: node scripts/run.mjs examples/echo.ts --port 5555
 */
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const [entry] = process.argv.splice(2, 1);
if (!entry) throw new Error("usage: node scripts/run.mjs FILE.ts [args...]");
const outfile = join(root, ".test-build", `${basename(entry, ".ts")}.mjs`);
await build({
  entryPoints: [resolve(entry)],
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  outfile,
  logLevel: "error",
  // package.json's sideEffects: false holds for the library, not for scripts.
  ignoreAnnotations: true,
  banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
});
await import(pathToFileURL(outfile).href);
