/** The echo protocol: every byte a client sends comes back, until it ends its stream. */
import type { Protocol } from "../mod.ts";

export const echo: Protocol = async (conn) => {
  const socket = await conn.handshake();
  for await (const chunk of socket) await socket.send(chunk);
};
