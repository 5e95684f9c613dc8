/**
 * A minimal test runner that behaves the same on Node.js, Deno and Bun, so
 * one suite runs unchanged on all four runtimes: tests run one at a time,
 * each with a time limit, and a test that leaves a listener running fails.
 *
 * @module
 */
import { listeners } from "../mod.ts";

/** A test body. */
export type TestBody = () => Promise<void> | void;

interface Case {
  name: string;
  body: TestBody;
  timeout: number;
  skip: string | undefined;
}

const cases: Case[] = [];
let prefix = "";

/** Options of {@linkcode test}. */
export interface TestOptions {
  /** Ms before the test fails as hung. Default 20,000. */
  timeout?: number;
  /** Skip the test, printing this reason. */
  skip?: string | false;
}

/** Registers a test. */
export function test(name: string, body: TestBody, options: TestOptions = {}): void {
  cases.push({ name: prefix + name, body, timeout: options.timeout ?? 20_000, skip: options.skip || undefined });
}

/** Registers the tests `define` declares under a common name prefix. */
export function suite(name: string, define: () => void): void {
  const outer = prefix;
  prefix = `${outer}${name} > `;
  try {
    define();
  } finally {
    prefix = outer;
  }
}

/** What a run counted. */
export interface Summary {
  passed: number;
  failed: number;
  skipped: number;
  /** The filters no registered test name contains (each is a mistake: a typo or a renamed test). */
  unmatched: string[];
}

/**
 * Runs every registered test whose name contains one of `filters` (every
 * test when there are none), printing one line per test.
 */
export async function run(filters: readonly string[] = []): Promise<Summary> {
  const summary: Summary = { passed: 0, failed: 0, skipped: 0, unmatched: [] };
  const wanted = filters.filter((filter) => filter !== "");
  summary.unmatched = wanted.filter((filter) => !cases.some((c) => c.name.includes(filter)));
  for (const c of cases) {
    if (wanted.length > 0 && !wanted.some((filter) => c.name.includes(filter))) continue;
    if (c.skip !== undefined) {
      summary.skipped++;
      console.log(`skip - ${c.name} (${c.skip})`);
      continue;
    }
    const started = performance.now();
    let error: unknown;
    try {
      await withTimeout(c.body, c.timeout);
    } catch (e) {
      error = e;
    }
    const left = listeners();
    if (error === undefined && left.length > 0) {
      error = new Error(`test left ${left.length} listener(s) running: ${left.map((l) => l.ref).join(", ")}`);
    }
    await Promise.all(left.map((l) => l.stop()));
    const ms = Math.round(performance.now() - started);
    if (error === undefined) {
      summary.passed++;
      console.log(`ok - ${c.name} (${ms} ms)`);
    } else {
      summary.failed++;
      console.log(`not ok - ${c.name} (${ms} ms)`);
      console.log(indent(describe(error)));
    }
  }
  summary.failed += strayBetweenTests;
  return summary;
}

async function withTimeout(body: TestBody, timeout: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`test timed out after ${timeout} ms`)), timeout);
  });
  const stray = new Promise<never>((_, reject) => {
    failCurrent = (error) => reject(new Error(`uncaught during the test: ${describe(error)}`, { cause: error }));
  });
  try {
    await Promise.race([Promise.resolve().then(body), expired, stray]);
  } finally {
    clearTimeout(timer);
    failCurrent = undefined;
  }
}

// An uncaught exception or unhandled rejection fails the test that is running (or, between tests, is printed and
// counted as a failure of the run) instead of ending the runner: one crash must not hide every test after it.
let failCurrent: ((error: unknown) => void) | undefined;
let strayBetweenTests = 0;
function onStray(error: unknown): void {
  if (failCurrent !== undefined) return failCurrent(error);
  strayBetweenTests++;
  console.log(`not ok - uncaught between tests: ${describe(error)}`);
}
globalThis.process.on("uncaughtException", onStray);
globalThis.process.on("unhandledRejection", onStray);

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

function indent(text: string): string {
  return text.split("\n").map((line) => `    ${line}`).join("\n");
}
