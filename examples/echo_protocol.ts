/**
 * The echo protocol: every byte a client sends comes back, until it ends its
 * stream. A push-mode handler: each chunk is answered as it arrives, with no
 * read loop (reading pauses by itself while the client does not take the
 * echo).
 */
import { handler } from "../mod.ts";

export const echo = handler({
  data(chunk, socket) {
    socket.send(chunk);
  },
});
