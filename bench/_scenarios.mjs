/**
 * The scenarios of bench/run.mjs: what the load generator does in each
 * (bench/loadgen.c's mode and settings), which of them --quick runs, the
 * figures each yields and the names --scenario takes.
 */

const KiB = 1024;
/**
 * Bytes a throughput connection may have sent and not had echoed yet (the
 * load generator's --window), as in issue 14's reference run: the server
 * then reads writes of the scenario's size as a client's stream brings
 * them, not whatever a kernel send buffer of several MB holds.
 */
export const WINDOW = 256 * KiB;

const throughput = (kib, conns, quick) => ({ mode: "throughput", conns, size: kib * KiB, window: WINDOW, quick });

/**
 * The load scenarios: a raw and the Corral servers stay up and one load
 * generator alternates between them. `quick`: run by --quick by default.
 * tls-throughput and tls-connect keep their earlier settings (64 KiB writes
 * without a window, 50-wide connects), so their history compares.
 */
export const LOAD = {
  "throughput-4k": throughput(4, 8, true),
  "throughput-16k": throughput(16, 8, true),
  "throughput-64k": throughput(64, 8, true),
  "throughput-4k-64c": throughput(4, 64, false),
  "throughput-16k-64c": throughput(16, 64, true),
  "throughput-64k-64c": throughput(64, 64, false),
  pingpong: { mode: "pingpong", conns: 32, size: 64, quick: true },
  connect: { mode: "connect", conns: 32, size: 64, quick: true },
  "tls-throughput": { mode: "throughput", conns: 8, size: 64 * KiB, window: 0, tls: true, quick: true },
  "tls-connect": { mode: "connect", conns: 50, size: 64, tls: true, quick: true },
};

/**
 * The redis-benchmark scenarios (bench/_resp.mjs): pipeline depth, clients,
 * and requests per test (SET, then GET) sized for about a second each.
 */
export const RESP = {
  "resp-p1-50c": { pipeline: 1, clients: 50, requests: 40_000, quick: true },
  "resp-p16-50c": { pipeline: 16, clients: 50, requests: 300_000, quick: true },
  "resp-p1-500c": { pipeline: 1, clients: 500, requests: 40_000, quick: false },
  "resp-p16-500c": { pipeline: 16, clients: 500, requests: 300_000, quick: false },
};

/** --window BYTES: the window of every plain throughput scenario (0: none, the kernel's buffers alone). */
export function overrideWindow(bytes) {
  for (const [name, settings] of Object.entries(LOAD)) if (name.startsWith("throughput-")) settings.window = bytes;
}

/** Every scenario, in the order they run and print. */
export const ALL_SCENARIOS = [...Object.keys(LOAD), ...Object.keys(RESP), "idle", "memory"];

/** `--scenario throughput`: every plain throughput scenario of the run (--quick's, or all). */
const ALIASES = {
  throughput: (quick) => Object.keys(LOAD).filter((name) => /^throughput-/.test(name) && (!quick || LOAD[name].quick)),
  resp: (quick) => Object.keys(RESP).filter((name) => !quick || RESP[name].quick),
};

/** The scenarios a run measures: those named (aliases expanded, in run order), else the mode's default set. */
export function pickScenarios(picked, quick) {
  const names = new Set();
  for (const name of picked) {
    if (ALIASES[name] !== undefined) { for (const each of ALIASES[name](quick)) names.add(each); }
    else if (ALL_SCENARIOS.includes(name)) names.add(name);
    else {
      throw new TypeError(`unknown scenario ${name}: ${[...ALL_SCENARIOS, ...Object.keys(ALIASES)].join(", ")}`);
    }
  }
  if (names.size === 0) {
    return ALL_SCENARIOS.filter((name) => !quick || (LOAD[name]?.quick ?? RESP[name]?.quick ?? true));
  }
  return ALL_SCENARIOS.filter((name) => names.has(name));
}

export const isTls = (scenario) => scenario.startsWith("tls-");
export const isLoad = (scenario) => LOAD[scenario] !== undefined;
export const isResp = (scenario) => RESP[scenario] !== undefined || scenario.startsWith("resp-");

/** The load generator's arguments for a load scenario (its mode first). */
export function loadgenArgs(scenario) {
  const { mode, conns, size, window = 0, tls = false } = LOAD[scenario];
  return [
    mode,
    "--conns",
    String(conns),
    "--size",
    String(size),
    ...(window > 0 ? ["--window", String(window)] : []),
    ...(tls ? ["--tls"] : []),
  ];
}

/** One line saying what a load scenario does, for the output's header. */
export function describe(scenario) {
  if (isResp(scenario)) {
    const { pipeline, clients, requests } = RESP[scenario];
    return `redis-benchmark -t set,get -c ${clients} -P ${pipeline} -n ${requests} against the RESP server`;
  }
  const { mode, conns, size, window = 0 } = LOAD[scenario];
  const bytes = size >= KiB ? `${size / KiB} KiB` : `${size} B`;
  if (mode === "throughput") {
    return `${conns} connections streaming ${bytes} writes${window > 0 ? `, ${window / KiB} KiB window` : ""}`;
  }
  if (mode === "pingpong") return `${conns} connections, one ${bytes} request in flight each`;
  return `connect, send ${bytes}, read it back, close, ${conns} at a time`;
}

/**
 * The figures a scenario yields: [key, label, unit, higher is better]. A
 * scenario's mode decides (so saved runs of older scenario names print too).
 */
export function figuresOf(scenario) {
  if (scenario === "idle") {
    return [["kib_per_conn", "idle memory", "KiB/conn", false]];
  }
  if (scenario === "memory") {
    return [["mbps", "memory echo", "MB/s", true], ["rtps", "memory round trips", "rt/s", true]];
  }
  if (isResp(scenario)) return [["rps", scenario, "req/s", true]];
  const mode = LOAD[scenario]?.mode ?? scenario.replace(/^tls-/, "").replace(/-.*/, "");
  if (mode === "throughput") return [["mbps", scenario, "MB/s", true]];
  if (mode === "pingpong") {
    return [["rtps", scenario, "rt/s", true], ["p50_us", `${scenario} p50`, "µs", false], [
      "p99_us",
      `${scenario} p99`,
      "µs",
      false,
    ]];
  }
  return [["cps", scenario, "conn/s", true]];
}

/** Server CPU per unit of a load scenario's first figure: the unit's name and the factor from cores ÷ rate. */
export function perUnit(scenario) {
  const [key] = figuresOf(scenario)[0];
  if (key === "mbps") return { key, unit: "µs/MB", factor: 1e6 };
  if (key === "rtps") return { key, unit: "µs/rt", factor: 1e6 };
  if (key === "rps") return { key, unit: "µs/req", factor: 1e6 };
  return { key, unit: "µs/conn", factor: 1e6 };
}
