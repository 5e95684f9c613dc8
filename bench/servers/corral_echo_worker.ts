/**
 * The worker module of `corral_echo.ts --workers N`: the same echo protocol
 * (the shape `--shape` chose) and listener settings, in each worker thread,
 * on the pool's port with `reusePort`.
 *
 * @module
 */
import { listen, serveWorker, tcp, tls } from "../../mod.ts";
import { type EchoServerData, LISTEN_SETTINGS, SHAPES } from "./_corral_echo_protocol.ts";

await serveWorker<EchoServerData>(({ port, data }) => {
  const address = { host: data.host, port, reusePort: true };
  return listen({
    ref: "bench-echo",
    transport: data.cert === "" ? tcp(address) : tls({ ...address, cert: data.cert, key: data.key }),
    protocol: SHAPES[data.shape],
    ...LISTEN_SETTINGS,
  });
});
