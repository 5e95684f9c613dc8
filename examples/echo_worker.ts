/**
 * The echo server's worker module, for `examples/echo.ts --workers N`: each
 * worker thread runs this file and listens on the pool's port with
 * `reusePort`, so the kernel spreads connections across the threads.
 */
import { listen, serveWorker, tcp } from "../mod.ts";
import { echo } from "./echo_protocol.ts";

await serveWorker<{ host: string }>(({ port, data }) =>
  listen({ ref: "echo", transport: tcp({ host: data.host, port, reusePort: true }), protocol: echo })
);
