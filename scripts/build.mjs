#!/usr/bin/env node
/**
 * Builds the npm package into `dist/`:
 *
 * - esbuild bundles the entry points into ESM JavaScript with code splitting,
 *   so `corral` and `corral/transports/memory` share one copy of the core and
 *   each runtime adapter stays a lazily imported chunk of its own (Node.js never
 *   evaluates the Bun or Deno adapter, Deno and Bun never load them needlessly);
 * - tsc (through its API) emits the `.d.ts` files, and a declaration
 *   transformer rewrites relative `./x.ts` specifiers to `./x.js`, which
 *   `rewriteRelativeImportExtensions` does not do for declarations
 *   (microsoft/TypeScript#61037);
 * - the output is checked: entry files exist, every relative specifier in the
 *   `.d.ts` files resolves to an emitted declaration, and no `node:` module is
 *   reachable from an entry point through static imports.
 *
 * Runs on any Node.js ≥ 20 (or Bun / Deno with npm compatibility): it only
 * uses `node:` built-ins plus the esbuild and typescript dev dependencies.
 *
 * Usage: node scripts/build.mjs
 */
import { existsSync } from "node:fs";
import { readdir, readFile, rm } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import ts from "typescript";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const outdir = join(root, "dist");

/**
 * Entry points: `package.json` "exports" subpath → source file. Keep in step
 * with "exports" in package.json and deno.json (the build checks both).
 */
const entries = {
  ".": "mod.ts",
  "./transports/memory": "transports/memory.ts",
  "./testing": "testing.ts",
  "./cluster/nats": "cluster/nats.ts",
  "./cluster/redis": "cluster/redis.ts",
};

async function main() {
  const started = performance.now();
  await rm(outdir, { recursive: true, force: true });
  await checkPackageExports();
  await bundle();
  emitDeclarations();
  await verify();
  const ms = Math.round(performance.now() - started);
  console.log(`build: dist/ written in ${ms} ms`);
}

/** package.json "exports" must name exactly the entries above, as dist/*.js + dist/*.d.ts. */
async function checkPackageExports() {
  const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8"));
  const expected = Object.fromEntries(
    Object.entries(entries).map(([subpath, source]) => {
      const base = source.replace(/\.ts$/, "");
      return [subpath, { types: `./dist/${base}.d.ts`, default: `./dist/${base}.js` }];
    }),
  );
  if (JSON.stringify(pkg.exports) !== JSON.stringify(expected)) {
    fail(`package.json "exports" must be ${JSON.stringify(expected)}`);
  }
  const deno = JSON.parse(await readFile(join(root, "deno.json"), "utf8"));
  const denoExpected = Object.fromEntries(Object.entries(entries).map(([subpath, source]) => [subpath, `./${source}`]));
  if (JSON.stringify(deno.exports) !== JSON.stringify(denoExpected)) {
    fail(`deno.json "exports" must be ${JSON.stringify(denoExpected)}`);
  }
  if (deno.version !== pkg.version) fail(`deno.json version ${deno.version} differs from package.json ${pkg.version}`);
}

async function bundle() {
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: Object.values(entries),
    outdir,
    outbase: ".",
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    external: ["node:*"],
    chunkNames: "_chunks/[name]-[hash]",
    entryNames: "[dir]/[name]",
    treeShaking: true,
    legalComments: "none",
    charset: "utf8",
    metafile: true,
    logLevel: "warning",
  });
  if (result.errors.length > 0) fail("esbuild failed");
  checkStaticGraph(result.metafile);
}

/**
 * No entry point may reach a runtime adapter (`src/runtime/<name>/`) or a
 * `node:` module through static imports: each adapter must stay a chunk of
 * its own that `src/runtime/detect.ts` imports lazily, so that Node.js never
 * evaluates the Bun adapter, Deno never loads `node:net`, and so on.
 */
function checkStaticGraph(metafile) {
  const outputs = metafile.outputs;
  const adapterInput = /^src\/runtime\/[^/]+\//;
  const entryFiles = new Set(Object.values(entries));
  for (const [file, output] of Object.entries(outputs)) {
    // esbuild also marks dynamically imported modules as entry points: skip those.
    if (!entryFiles.has(output.entryPoint)) continue;
    const seen = new Set();
    const stack = [file];
    while (stack.length > 0) {
      const current = stack.pop();
      if (seen.has(current)) continue;
      seen.add(current);
      const inlined = Object.keys(outputs[current]?.inputs ?? {}).filter((input) => adapterInput.test(input));
      if (inlined.length > 0) {
        fail(`${file} statically loads ${inlined.join(", ")} (via ${current}); runtime adapters must load lazily`);
      }
      for (const imported of outputs[current]?.imports ?? []) {
        if (imported.kind !== "import-statement") continue;
        if (imported.external) {
          fail(`${file} statically imports ${imported.path} (via ${current}); runtime modules must load lazily`);
        }
        stack.push(imported.path);
      }
    }
  }
  const lazy = Object.values(outputs).filter((output) =>
    Object.keys(output.inputs).some((input) => /^src\/runtime\/[^/]+\/adapter\.ts$/.test(input))
  );
  if (lazy.length === 0) fail("no runtime adapter chunk was emitted");
}

/** Runs tsc on tsconfig.build.json, declarations only. */
function emitDeclarations() {
  const host = {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => report([diagnostic]),
  };
  const config = ts.getParsedCommandLineOfConfigFile(join(root, "tsconfig.build.json"), { outDir: outdir }, host);
  if (!config) fail("cannot read tsconfig.build.json");
  if (config.errors.length > 0) report(config.errors);
  const options = { ...config.options, noEmit: false, declaration: true, emitDeclarationOnly: true };
  const program = ts.createProgram({ rootNames: config.fileNames, options });
  const diagnostics = ts.getPreEmitDiagnostics(program);
  if (diagnostics.length > 0) report(diagnostics);
  const emitted = program.emit(undefined, undefined, undefined, true, {
    afterDeclarations: [rewriteTsSpecifiers],
  });
  if (emitted.diagnostics.length > 0) report(emitted.diagnostics);
  if (emitted.emitSkipped) fail("tsc skipped emitting declarations");
}

/** `./x.ts` → `./x.js` in import/export declarations and `import("./x.ts")` types. */
function rewriteTsSpecifiers(context) {
  const { factory } = context;
  const rewrite = (literal) => {
    const text = literal.text;
    if (!/^\.\.?\//.test(text) || !/\.[mc]?ts$/.test(text) || /\.d\.[mc]?ts$/.test(text)) return literal;
    return factory.createStringLiteral(
      text.replace(/\.ts$/, ".js").replace(/\.mts$/, ".mjs").replace(/\.cts$/, ".cjs"),
    );
  };
  const visit = (node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      return factory.updateImportDeclaration(
        node,
        node.modifiers,
        node.importClause,
        rewrite(node.moduleSpecifier),
        node.attributes,
      );
    }
    if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      return factory.updateExportDeclaration(
        node,
        node.modifiers,
        node.isTypeOnly,
        node.exportClause,
        rewrite(node.moduleSpecifier),
        node.attributes,
      );
    }
    if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      return factory.updateImportTypeNode(
        node,
        factory.updateLiteralTypeNode(node.argument, rewrite(node.argument.literal)),
        node.attributes,
        node.qualifier,
        ts.visitNodes(node.typeArguments, visit),
        node.isTypeOf,
      );
    }
    return ts.visitEachChild(node, visit, context);
  };
  return (file) => (ts.isSourceFile(file) ? ts.visitEachChild(file, visit, context) : file);
}

/** Checks what the package exposes actually exists and resolves. */
async function verify() {
  for (const source of Object.values(entries)) {
    const base = source.replace(/\.ts$/, "");
    for (const ext of [".js", ".d.ts"]) {
      const file = join(outdir, base + ext);
      if (!existsSync(file)) fail(`missing ${relative(root, file)}`);
    }
  }
  const specifier = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s*)["']([^"']+)["']/gm;
  const problems = [];
  for (const file of await walk(outdir)) {
    if (!file.endsWith(".d.ts") && !file.endsWith(".js")) continue;
    const text = stripComments(await readFile(file, "utf8"));
    for (const [, spec] of text.matchAll(specifier)) {
      if (spec.startsWith("node:")) continue;
      if (!spec.startsWith("./") && !spec.startsWith("../")) {
        problems.push(`${relative(root, file)}: bare import ${JSON.stringify(spec)} (the package has no dependencies)`);
        continue;
      }
      if (!spec.endsWith(".js")) {
        problems.push(`${relative(root, file)}: ${JSON.stringify(spec)} does not end in .js`);
        continue;
      }
      const target = resolve(dirname(file), file.endsWith(".d.ts") ? spec.replace(/\.js$/, ".d.ts") : spec);
      if (!existsSync(target)) problems.push(`${relative(root, file)}: ${JSON.stringify(spec)} does not resolve`);
    }
  }
  if (problems.length > 0) fail(`dist/ check failed:\n  ${problems.join("\n  ")}`);
}

/** Drops block and line comments (JSDoc examples mention `./mod.ts`); good enough for emitted code. */
function stripComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}

async function walk(dir) {
  const files = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await walk(path)));
    else files.push(path);
  }
  return files;
}

function report(diagnostics) {
  const formatHost = {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => root,
    getNewLine: () => "\n",
  };
  console.error(ts.formatDiagnosticsWithColorAndContext(diagnostics, formatHost));
  fail("tsc reported errors");
}

function fail(message) {
  console.error(`build: ${message}`);
  process.exit(1);
}

await main();
