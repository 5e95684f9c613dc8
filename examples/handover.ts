/**
 * A redeploy that drops nothing: the echo server, which on SIGHUP hands its
 * listening socket to a fresh copy of itself (the same command line), waits
 * until the copy accepts, then stops accepting and drains. Each generation
 * prints `ready pid=<pid>` once it accepts and `drained pid=<pid>
 * accepted=<n>` before it exits; SIGINT or SIGTERM drains and exits too.
 *
 *   node scripts/run.mjs examples/handover.ts --port 5555   (Node.js 20: bundled on the fly)
 *   deno run -A examples/handover.ts --port 5555
 *   bun run examples/handover.ts --port 5555
 *   kill -HUP <pid>    # the next generation takes over
 *
 * `--via reusePort` makes the successor bind its own socket beside the old
 * one instead (what is left where a runtime cannot pass its socket): it
 * resets the connections still queued on the old socket when it closes,
 * unless net.ipv4.tcp_migrate_req = 1.
 */
import { handover, type HandoverVia, listen, listenFds, notifyReady, tcp } from "../mod.ts";
import { exit, flag, numberFlag, startOrExit } from "./_args.ts";
import { echo } from "./echo_protocol.ts";

const proc = globalThis.process;
const host = flag("host", "127.0.0.1");
// A successor that binds its own socket (--via reusePort) must bind the port
// its predecessor had, which --port 0 does not say: the predecessor tells it.
const port = Number(proc.env.HANDOVER_PORT ?? numberFlag("handover", "port", 5555));
const via = flag("via", "descriptor");
if (via !== "descriptor" && via !== "reusePort") exit("handover", `--via must be descriptor or reusePort, got ${via}`);

const [inherited] = await listenFds();
const listener = await startOrExit("handover", () =>
  listen({
    ref: "echo",
    transport: inherited !== undefined
      ? tcp({ fd: inherited.fd })
      : tcp({ host, port, reusePort: via === "reusePort" ? true : undefined }),
    protocol: echo,
    shutdownTimeout: 10_000,
  }));
console.log(`echo listening on ${host}:${listener.port}`);
console.log(`ready pid=${proc.pid}`);
await notifyReady();

let leaving = false;
/** Prints the last line and exits once this generation's connections are done. */
function drained(): never {
  console.log(`drained pid=${proc.pid} accepted=${listener.info().accepted}`);
  return proc.exit(0);
}

proc.on("SIGHUP", () => {
  if (leaving) return;
  leaving = true;
  const env = { HANDOVER_PORT: String(listener.port) };
  handover(listener, { via: via as HandoverVia, env }).then(drained, (error) => {
    // The successor failed: this generation keeps serving, and a later SIGHUP tries again.
    console.error(`handover: ${error instanceof Error ? error.message : error}`);
    leaving = false;
  });
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  proc.once(signal, () => {
    leaving = true;
    void listener.stop().then(drained);
  });
}
