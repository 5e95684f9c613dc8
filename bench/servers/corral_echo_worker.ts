/**
 * The worker module of `corral_echo.ts --workers N`: the same echo protocol
 * and listener settings, in each worker thread, on the pool's port with
 * `reusePort`.
 *
 * @module
 */
import { listen, serveWorker, tcp, tls } from "../../mod.ts";
import { echo, type EchoServerData, LISTEN_SETTINGS } from "./_corral_echo_protocol.ts";

await serveWorker<EchoServerData>(({ port, data }) => {
  const address = { host: data.host, port, reusePort: true };
  return listen({
    ref: "bench-echo",
    transport: data.cert === "" ? tcp(address) : tls({ ...address, cert: data.cert, key: data.key }),
    protocol: echo,
    ...LISTEN_SETTINGS,
  });
});
