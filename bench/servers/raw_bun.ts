/**
 * The raw Bun echo server: `Bun.listen` with a `data` handler writing back,
 * queueing what the kernel did not take until `drain` (see _bun_echo.ts).
 *
 *   bun run bench/servers/raw_bun.ts [--port N]
 *
 * @module
 */
import { serve } from "./_bun_echo.ts";

serve();
