/**
 * The tables bench/run.mjs prints from a run's results (or a saved run's):
 * rates, server CPU per unit against raw, the cores each side used, and
 * worker mode against single-thread Corral.
 *
 * results[runtime][scenario][impl] is the list of one impl's slices, one
 * per round; impls: raw, floor (the pull shape on the raw socket, without
 * Corral), corral (the pull-shaped Corral echo), handler (the handler()
 * echo), workers and handlerWorkers (those two in worker mode).
 */
import { ALL_SCENARIOS, figuresOf, isLoad, isResp, perUnit } from "./_scenarios.mjs";

/** Other work on the machine (cores) above which a round counts as noisy. */
export const BUSY_LIMIT = 0.3;

/** The Corral columns: impl, its column heading. */
const CORRAL = [["corral", "pull"], ["handler", "handler"]];
/** Worker mode's slices and the single-thread Corral each is compared with. */
const WORKER_MODES = [["workers", "corral", "pull"], ["handlerWorkers", "handler", "handler"]];

function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function format(value, unit) {
  if (!Number.isFinite(value)) return "-";
  if (unit === "KiB/conn") return value.toFixed(2);
  return Math.round(value).toLocaleString("en-US");
}

const ratio = (value) => (Number.isFinite(value) ? value.toFixed(2) : "");
const signed = (value) => `${value >= 0 ? "+" : ""}${value.toFixed(2)}`;

/** A text table; a column empty in every row (floor without floor servers, say) is left out. */
function table(allRows, allHeaders) {
  const keep = allHeaders.map((_, i) => i < 2 || allRows.some((row) => String(row[i]) !== ""));
  const headers = allHeaders.filter((_, i) => keep[i]);
  const rows = allRows.map((row) => row.filter((_, i) => keep[i]));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells) =>
    cells.map((cell, i) => (i < 2 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i]))).join("  ")
      .trimEnd();
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/**
 * The rounds the medians use: for load scenarios, the rounds where the
 * machine was quiet during every slice, when at least 3 are; else all.
 * Each round is { impl: slice } over the impls the scenario ran.
 */
function quietRounds(byImpl) {
  const impls = Object.keys(byImpl);
  const all = byImpl.raw.map((_, i) => Object.fromEntries(impls.map((impl) => [impl, byImpl[impl][i] ?? {}])));
  const noise = (round) => Math.max(...impls.map((impl) => round[impl].other_cpu ?? 0));
  const quiet = all.filter((round) => noise(round) <= BUSY_LIMIT);
  return quiet.length >= 3 ? quiet : all;
}

/** The scenarios of a runtime's results, in run order (names of older saved runs last). */
const scenariosOf = (byScenario) => [
  ...ALL_SCENARIOS.filter((name) => byScenario[name] !== undefined),
  ...Object.keys(byScenario).filter((name) => !ALL_SCENARIOS.includes(name)),
];

/** Prints the tables; `runtimes` labels each runtime, `expectedIdle` is how many connections idle opened. */
export function printReport(results, runtimes, versions, expectedIdle) {
  const rows = [];
  const cpuRows = [];
  const coreRows = [];
  const workerRows = [];
  const warnings = [];
  for (const [name, byScenario] of Object.entries(results)) {
    const label = `${runtimes[name]?.label ?? name} ${versions[name] ?? runtimes[name]?.version ?? ""}`;
    const first = (list) => (list.some((row) => row[0] === label) ? "" : label);
    for (const scenario of scenariosOf(byScenario)) {
      const byImpl = byScenario[scenario];
      const kept = quietRounds(byImpl);
      const has = (impl) => byImpl[impl] !== undefined;
      const ofImpl = (impl, key) => median(kept.map((r) => r[impl][key]));
      const toRaw = (impl, key) => (has(impl) ? median(kept.map((r) => r[impl][key] / r.raw[key])) : NaN);
      for (const [key, what, unit, higherIsBetter] of figuresOf(scenario)) {
        const raw = ofImpl("raw", key);
        const notes = [];
        for (const [impl, heading] of CORRAL) {
          if (!has(impl)) continue;
          if (key === "kib_per_conn") notes.push(`${heading} ${signed(ofImpl(impl, key) - raw)}`);
          else if (!higherIsBetter && toRaw(impl, key) >= 1.005) {
            notes.push(`${heading} +${((toRaw(impl, key) - 1) * 100).toFixed(0)} %`);
          }
        }
        if (key === "kib_per_conn" && has("floor")) notes.push(`floor ${signed(ofImpl("floor", key) - raw)}`);
        rows.push([
          first(rows),
          `${what} (${unit})`,
          format(raw, unit),
          ...CORRAL.map(([impl]) => (has(impl) ? format(ofImpl(impl, key), unit) : "")),
          ...CORRAL.map(([impl]) => ratio(toRaw(impl, key))),
          ratio(toRaw("floor", key)),
          notes.length === 0 ? "" : notes.join(", ") + (key === "kib_per_conn" ? " KiB" : ""),
        ]);
      }
      if (scenario === "idle" && byImpl.raw.some((r) => r.held !== undefined)) {
        // What the server held, by the kernel's count: the figure above is per held connection only if all were.
        const held = (impl) => Math.min(...byImpl[impl].map((r) => r.held ?? NaN));
        const impls = Object.keys(byImpl);
        rows.push([
          first(rows),
          "idle held (conns, least of rounds)",
          format(held("raw"), ""),
          ...CORRAL.map(([impl]) => (has(impl) ? format(held(impl), "") : "")),
          "",
          "",
          has("floor") ? format(held("floor"), "") : "",
          `of ${format(expectedIdle, "")}`,
        ]);
        for (const impl of impls) {
          // Saved runs from before the count have none.
          if (Number.isFinite(held(impl)) && held(impl) < expectedIdle) {
            warnings.push(
              `${label} ${impl} idle: held ${held(impl)} of ${expectedIdle}: its figure is not per connection`,
            );
          }
          for (const r of byImpl[impl]) {
            if (r.own_held !== undefined && r.own_held !== r.held) {
              warnings.push(
                `${label} ${impl} idle: the server counted ${r.own_held} connections, the kernel ${r.held}`,
              );
            }
          }
        }
      }
      if (!isLoad(scenario) && !isResp(scenario) && !/^(throughput|pingpong|connect)$/.test(scenario)) continue;
      // Server CPU per unit: raw's absolute, then every impl's work per server core over raw's, round by round.
      const { key, unit, factor } = perUnit(scenario);
      const cost = (round, impl) => round[impl].server_cpu / round[impl][key];
      const cheapness = (impl) => (has(impl) ? median(kept.map((r) => cost(r, "raw") / cost(r, impl))) : NaN);
      const rawCost = median(kept.map((r) => cost(r, "raw"))) * factor;
      cpuRows.push([
        first(cpuRows),
        scenario,
        `${rawCost >= 100 ? rawCost.toFixed(0) : rawCost.toFixed(1)} ${unit}`,
        ...CORRAL.map(([impl]) => ratio(cheapness(impl))),
        ratio(cheapness("floor")),
        `${kept.length} of ${byImpl.raw.length}`,
      ]);
      const cores = (impl) =>
        has(impl) ? `${ofImpl(impl, "server_cpu").toFixed(2)} / ${ofImpl(impl, "loadgen_cpu").toFixed(2)}` : "";
      const other = Math.max(...Object.keys(byImpl).map((impl) => ofImpl(impl, "other_cpu")));
      coreRows.push([
        first(coreRows),
        scenario,
        cores("raw"),
        ...CORRAL.map(([impl]) => cores(impl)),
        cores("floor"),
        other.toFixed(2),
      ]);
      for (const [impl, single, shape] of WORKER_MODES) {
        if (!has(impl) || !has(single)) continue;
        const figureUnit = figuresOf(scenario)[0][2];
        workerRows.push([
          first(workerRows),
          scenario,
          shape,
          `${format(ofImpl(impl, key), figureUnit)} ${figureUnit}`,
          median(kept.map((r) => r[impl][key] / r[single][key])).toFixed(2),
          cores(impl),
          median(kept.map((r) => cost(r, single) / cost(r, impl))).toFixed(2),
        ]);
      }
    }
  }
  console.log(
    "\nMedians; x/raw = median of the per-round ratios; pull = the for-await Corral echo, handler = the handler()" +
      "\nCorral echo; floor = the pull echo over the raw socket without Corral (bench/servers/floor_*.ts);" +
      "\nmemory: raw = the in-process baseline.\n",
  );
  console.log(
    table(rows, ["runtime", "scenario", "raw", "pull", "handler", "pull/raw", "handler/raw", "floor/raw", ""]),
  );
  console.log(
    "\nServer CPU per unit (per MB, round trip or connection): raw's, then each server's work per server core over" +
      "\nraw's in the same round (raw's CPU per unit / its own; ≥ 1: as cheap as raw), median of the rounds used:\n",
  );
  console.log(table(cpuRows, ["runtime", "scenario", "raw", "pull", "handler", "floor", "rounds"]));
  console.log(
    "\nCores busy during the measured slices (server / load generator; a load generator near 1.00 is the limit," +
      "\nand then only the CPU per unit compares), and the most everything else on the machine used:\n",
  );
  console.log(table(coreRows, ["runtime", "scenario", "raw", "pull", "handler", "floor", "other"]));
  if (workerRows.length > 0) {
    console.log(
      "\nWorker mode (--workers): each shape in worker threads against the same shape single-thread, same rounds;" +
        "\ncores as above (the server's: every thread of the process); work/core = single-thread's server CPU per" +
        "\nunit over worker mode's (≥ 1: as cheap; all servers share core 0: the cost of worker mode, not its scaling):\n",
    );
    console.log(table(workerRows, ["runtime", "scenario", "shape", "workers", "workers/single", "cores", "work/core"]));
  }
  for (const warning of warnings) console.log(`\nWARNING: ${warning}`);
}
