/**
 * The checked form of the {@linkcode Registry}'s options: a wrong option
 * fails in the constructor, naming it.
 *
 * @module
 */
import type { Logger } from "../logger.ts";
import { describe, rejectUnknownOptions, stringOption } from "../options.ts";
import type { PubSub } from "./pubsub.ts";
import type { RegistryEntry, RegistryOptions } from "./types.ts";

/** A registry's options, checked, with defaults filled in. */
export interface RegistrySettings<V> {
  readonly unique: boolean;
  readonly pubsub: PubSub | undefined;
  readonly deliver: ((entry: RegistryEntry<V>, data: Uint8Array) => void) | undefined;
  readonly name: string;
  readonly logger: Pick<Logger, "error">;
}

const KNOWN = ["keys", "pubsub", "deliver", "name", "logger"] as const;

/** Checks `options`; throws a `TypeError` naming the first wrong one. */
export function registrySettings<V>(options: RegistryOptions<V>): RegistrySettings<V> {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`new Registry(options): options must be { keys: "unique" | "duplicate" }`);
  }
  rejectUnknownOptions("new Registry()", options, KNOWN);
  if (options.keys !== "unique" && options.keys !== "duplicate") {
    throw new TypeError(`new Registry() option keys must be "unique" or "duplicate", got ${describe(options.keys)}`);
  }
  const { pubsub, deliver, logger = console } = options;
  if (deliver !== undefined && typeof deliver !== "function") {
    throw new TypeError(`new Registry() option deliver must be a function, got ${describe(deliver)}`);
  }
  if (pubsub !== undefined) {
    const methods = ["publish", "subscribe", "close"] as const;
    if (pubsub === null || typeof pubsub !== "object" || methods.some((name) => typeof pubsub[name] !== "function")) {
      throw new TypeError(`new Registry() option pubsub must be a PubSub (publish, subscribe, close), got ${describe(pubsub)}`);
    }
    if (deliver === undefined) throw new TypeError("new Registry() option deliver is required with pubsub");
  }
  if (logger === null || typeof logger !== "object" || typeof logger.error !== "function") {
    throw new TypeError(`new Registry() option logger must have an error method, got ${describe(logger)}`);
  }
  const name = stringOption("new Registry() option name", options.name) ?? "corral";
  return { unique: options.keys === "unique", pubsub, deliver, name, logger };
}
