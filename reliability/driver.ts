/**
 * The load side of the reliability suite, on Node.js: for one runtime, runs
 * each named scenario against a fresh server process on that runtime and
 * prints one `RESULT {json}` line per scenario. run.mjs starts it.
 *
 * Usage: driver.ts CONFIG_JSON  (runtime, how, scenarios, quick, cert, key, soakSeconds)
 *
 * @module
 */
import type { ScenarioResult } from "./_lib.ts";
import { delay } from "./_lib.ts";
import type { Context } from "./scenarios/_context.ts";
import { scenarios } from "./scenarios/index.ts";

const config = JSON.parse(process.argv.at(-1)!) as Context & { scenarios: string[] };
/** A scenario that has not finished by then has hung: a failure, never a wait. */
const SCENARIO_LIMIT_MS = (config.quick ? 90 : 20 * 60) * 1000;

for (const name of config.scenarios) {
  const started = performance.now();
  let result: ScenarioResult;
  try {
    result = await Promise.race([
      scenarios[name]!(config),
      delay(SCENARIO_LIMIT_MS).then(() => Promise.reject(new Error(`did not finish in ${SCENARIO_LIMIT_MS / 1000} s`))),
    ]);
  } catch (error) {
    result = { offered: "-", served: 0, lost: 0, fds: [0, 0], rss: [0, 0], failures: [String((error as Error).stack ?? error)] };
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`RESULT ${JSON.stringify({ name, seconds, ...result })}`);
}
process.exit(0);
