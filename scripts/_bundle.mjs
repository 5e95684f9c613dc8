/**
 * Bundles a TypeScript entry point into one ESM file that Node.js 20 can
 * run (it cannot strip types), for the test runner and scripts/run.mjs.
 */
import { build } from "esbuild";

/** Writes `entry` and everything it imports to `outfile`. */
export async function bundleForNode(entry, outfile) {
  await build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    outfile,
    logLevel: "error",
    // package.json says sideEffects: false, which is true of the library but
    // not of test files and scripts imported for their side effects.
    ignoreAnnotations: true,
    // Lets bundled `require` calls for Node.js builtins work in ESM.
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  });
}
