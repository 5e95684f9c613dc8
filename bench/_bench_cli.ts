/**
 * What the chat benchmarks (chat_fanout.ts, chat_cluster.ts) share: the
 * runtime's label for their JSON lines, and their numeric `--name value`
 * knobs.
 */
import process from "node:process";

declare const Deno: { version: { deno: string } } | undefined;
declare const Bun: { version: string } | undefined;

/** `"node 24.x"`, `"deno 2.x"` or `"bun 1.x"`: the runtime running this process. */
export const runtime: string = typeof Deno !== "undefined"
  ? `deno ${Deno.version.deno}`
  : typeof Bun !== "undefined"
  ? `bun ${Bun.version}`
  : `node ${process.versions.node}`;

/** The `--name value` arguments that hand every knob of `defaults`, as `option` read them, to another process. */
export function knobArgs<K extends string>(defaults: Readonly<Record<K, number>>, option: (name: K) => number): string[] {
  return (Object.keys(defaults) as K[]).flatMap((name) => [`--${name}`, String(option(name))]);
}

/** A reader of `--name value` knobs, each a number > 0, falling back to `defaults`. */
export function knobs<K extends string>(defaults: Readonly<Record<K, number>>): (name: K) => number {
  return (name) => {
    const at = process.argv.indexOf(`--${name}`);
    const value = at >= 0 ? Number(process.argv[at + 1]) : defaults[name];
    if (!(value > 0)) throw new RangeError(`--${name} must be a number > 0`);
    return value;
  };
}
