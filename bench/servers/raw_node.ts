/**
 * The raw Node.js echo server: `node:net` written the fast idiomatic way,
 * `data` -> `write`, pausing while the kernel is behind (what `pipe` does,
 * without the stream machinery in between; see _node_echo.ts).
 *
 *   node --expose-gc bench/build/raw_node.mjs [--port N]   (bundled by bench/run.mjs)
 *
 * @module
 */
import * as net from "node:net";
import { echo, serve } from "./_node_echo.ts";

serve(net.createServer({ noDelay: true }, echo));
