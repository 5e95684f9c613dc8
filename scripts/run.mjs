#!/usr/bin/env node
/**
 * Runs a TypeScript file on the Node.js that runs this script, including
 * Node.js 20, which cannot strip types: the file is bundled with esbuild into
 * .test-build/ and imported, with the remaining arguments left in argv.
 * Usage: node scripts/run.mjs examples/echo.ts --port 5555
 */
import { rmSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { bundleForNode } from "./_bundle.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const [entry] = process.argv.splice(2, 1);
if (!entry) throw new Error("usage: node scripts/run.mjs FILE.ts [args...]");
// One bundle per process, removed at exit, so concurrent runs never collide.
const outfile = join(root, ".test-build", `${basename(entry, ".ts")}-${process.pid}.mjs`);
process.once("exit", () => rmSync(outfile, { force: true }));
await bundleForNode(resolve(entry), outfile);
await import(pathToFileURL(outfile).href);
