/** Reads `--name value` flags the same way on Node.js, Deno and Bun. */
export function flag(name: string, fallback: string): string {
  const argv: string[] = globalThis.process?.argv ?? [];
  const at = argv.indexOf(`--${name}`);
  return at >= 0 && at + 1 < argv.length ? argv[at + 1]! : fallback;
}

/** Stops `stop` on Ctrl-C or SIGTERM, once. */
export function stopOnSignal(stop: () => Promise<unknown>): void {
  const proc = globalThis.process;
  const handler = () => void stop().then(() => proc.exit(0));
  proc.once("SIGINT", handler);
  proc.once("SIGTERM", handler);
}
