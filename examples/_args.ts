/** Command-line helpers the examples share: flags, a start that fails in one line, and stopping on a signal. */

/** Reads `--name value` flags the same way on Node.js, Deno and Bun. */
export function flag(name: string, fallback: string): string {
  const argv: string[] = globalThis.process?.argv ?? [];
  const at = argv.indexOf(`--${name}`);
  return at >= 0 && at + 1 < argv.length ? argv[at + 1]! : fallback;
}

/** Reads a whole-number flag such as `--port`; anything else ends the program with a one-line message. */
export function numberFlag(program: string, name: string, fallback: number): number {
  const value = flag(name, String(fallback));
  if (!/^\d+$/.test(value)) exit(program, `--${name} must be a whole number, got ${JSON.stringify(value)}`);
  return Number(value);
}

/**
 * Runs `start` (making the transport and listening); when it fails, as on
 * a taken port or a bad option, prints `program: reason` and exits with
 * status 1 instead of a stack trace.
 */
export async function startOrExit<T>(program: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const code = (error as { code?: unknown }).code;
    return exit(program, typeof code === "string" && !message.includes(code) ? `${message} (${code})` : message);
  }
}

/** Prints `program: message` to stderr and exits with status 1. */
export function exit(program: string, message: string): never {
  console.error(`${program}: ${message}`);
  return globalThis.process.exit(1);
}

/** Stops `stop` on Ctrl-C or SIGTERM, once. */
export function stopOnSignal(stop: () => Promise<unknown>): void {
  const proc = globalThis.process;
  const handler = () => void stop().then(() => proc.exit(0));
  proc.once("SIGINT", handler);
  proc.once("SIGTERM", handler);
}
