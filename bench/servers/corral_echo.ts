/**
 * The Corral echo server, one file for every runtime: the idiomatic
 * protocol over `tcp()`, or over `tls()` when given a certificate, started
 * with `listen()` from `mod.ts`. `--shape pull` (the default) serves the
 * `for await` echo, `--shape handler` the `handler()` one whose `data`
 * sends each chunk back (see _corral_echo_protocol.ts).
 *
 *   node --expose-gc bench/build/corral_echo.mjs [--port N] [--shape pull|handler] [--cert FILE --key FILE]
 *     (bundled by bench/run.mjs; or node scripts/run.mjs bench/servers/corral_echo.ts)
 *   deno run -A --v8-flags=--expose-gc bench/servers/corral_echo.ts [--port N] [--shape ...] [--cert ... --key ...]
 *   bun run bench/servers/corral_echo.ts [--port N] [--shape pull|handler] [--cert FILE --key FILE]
 *
 * `--workers N` serves the same from N worker threads (`startWorkers()`,
 * each running corral_echo_worker.ts) on one port, in this one process, so
 * the process's CPU time the bench reads covers every thread.
 *
 * @module
 */
import { listen, startWorkers, tcp, tls } from "../../mod.ts";
import { control, flag } from "./_control.ts";
import { type EchoServerData, LISTEN_SETTINGS, shapeOf, SHAPES } from "./_corral_echo_protocol.ts";

const address = { host: "127.0.0.1", port: Number(flag("port", "0")) };
const cert = flag("cert", "");
const shape = shapeOf(flag("shape", "pull"));
const workers = Number(flag("workers", "0"));
if (workers > 0) {
  // Bundled for Node.js (bench/build/corral_echo.mjs), the worker module is the bundle beside this one.
  const module = new URL(
    import.meta.url.endsWith(".mjs") ? "./corral_echo_worker.mjs" : "./corral_echo_worker.ts",
    import.meta.url,
  );
  const data: EchoServerData = { host: address.host, shape, cert, key: flag("key", "") };
  const pool = await startWorkers({ module, count: workers, port: address.port, data });
  control(pool.port, () => pool.stop());
} else {
  const listener = await listen({
    ref: "bench-echo",
    // tls() reads the certificate and key files itself (it takes PEM text or paths).
    transport: cert === "" ? tcp(address) : tls({ ...address, cert, key: flag("key", "") }),
    protocol: SHAPES[shape],
    ...LISTEN_SETTINGS,
  });
  control(listener.port!, () => listener.stop(), () => listener.connections("all"));
}
