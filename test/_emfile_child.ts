/**
 * The server side of the EMFILE test, run in a child process whose
 * descriptor limit is low: an echo listener that reports its port and every
 * warning on stdout, until stdin closes.
 */
import { listen, tcp } from "../mod.ts";

export async function runEmfileChild(): Promise<void> {
  const say = (line: string) => globalThis.process.stdout.write(`${line}\n`);
  const listener = await listen({
    transport: tcp({ host: "127.0.0.1", port: 0 }),
    logger: {
      debug() {},
      info() {},
      warn: (message: string) => say(`WARN ${message}`),
      error: (m: string) => say(`ERROR ${m}`),
    },
    protocol: async (conn) => {
      const socket = await conn.handshake();
      for await (const chunk of socket) await socket.send(chunk);
    },
  });
  say(`PORT ${listener.port}`);
  globalThis.process.stdin.resume();
  await new Promise((resolve) => globalThis.process.stdin.once("end", resolve));
  await listener.stop();
  globalThis.process.exit(0);
}
