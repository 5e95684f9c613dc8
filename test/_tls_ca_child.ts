/**
 * A program for the client `ca` test: connects with `tls().connect()` to
 * the port in argv[2] as "localhost", first trusting the runtime's default
 * roots, then with `ca` set to the PEM file in argv[3], and prints
 * `RESULT <json>`: the outcome of each (`"verified"` or the error's code).
 * The parent starts it with the test CA among the defaults (`DENO_CERT`,
 * `NODE_EXTRA_CA_CERTS`), so the second outcome tells whether `ca`
 * replaces the defaults or adds to them.
 *
 * @module
 */
import { tls } from "../transports/tls.ts";

const [port, ca] = globalThis.process.argv.slice(2).filter((arg) => !arg.startsWith("--"));
const attempt = (extra: { ca?: string }) =>
  tls().connect({ port: Number(port), serverName: "localhost", ...extra }).then(
    async (socket) => {
      await socket.close();
      return "verified";
    },
    (error) => (error as { code?: string }).code ?? String(error),
  );
const defaults = await attempt({});
const replaced = await attempt({ ca: ca! });
console.log(`RESULT ${JSON.stringify({ defaults, replaced })}`);
