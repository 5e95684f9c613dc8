/** What every scenario's load side gets from the driver. */
import type { ServerCommand } from "../_lib.ts";

/** The run's settings for one scenario on one runtime. */
export interface Context {
  /** How to start a server process on the runtime under test. */
  how: ServerCommand;
  /** `node20`, `node24`, `deno` or `bun`. */
  runtime: string;
  /** `--quick`: the scaled-down counts. */
  quick: boolean;
  /** A self-signed certificate for 127.0.0.1 (PEM file paths). */
  cert: string;
  key: string;
  /** Full-run bounds that may be lowered from the command line (`--soak-seconds=`). */
  soakSeconds: number;
  /** TLS ClientHellos the full run's fuzz sends (`--hellos=`, default 100,000). */
  hellos: number;
}
