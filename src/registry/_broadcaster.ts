/**
 * The `broadcast` side of a registry: local delivery through the `deliver`
 * option and, with a `pubsub`, the broker link with one subscription per key
 * that has local members.
 *
 * @module
 */
import type { Connection } from "../connection.ts";
import type { Logger } from "../logger.ts";
import { describe } from "../options.ts";
import { ClusterLink } from "./_cluster_link.ts";
import type { RegistrySettings } from "./_registry_settings.ts";
import type { ClusterStatus } from "./pubsub.ts";
import type { RegistryEntry } from "./types.ts";

const encoder = new TextEncoder();

/** Delivers a registry's broadcasts, here and through the broker. */
export class Broadcaster<V, K> {
  readonly #deliver: ((entry: RegistryEntry<V>, data: Uint8Array) => void) | undefined;
  readonly #link: ClusterLink | undefined;
  readonly #name: string;
  readonly #logger: Pick<Logger, "error">;
  readonly #lookup: (key: K) => readonly RegistryEntry<V>[];

  constructor(settings: RegistrySettings<V>, lookup: (key: K) => readonly RegistryEntry<V>[]) {
    this.#deliver = settings.deliver;
    this.#link = settings.pubsub === undefined ? undefined : new ClusterLink(settings.pubsub);
    this.#name = settings.name;
    this.#logger = settings.logger;
    this.#lookup = lookup;
  }

  /** Before `key`'s first local entry is made: subscribes (throws for a key the broker cannot carry). */
  joining(key: K): void {
    if (this.#link === undefined) return;
    this.#link.join(this.#topic(key), (data) => this.#deliverLocal(key, data, undefined));
  }

  /** After `key`'s last local entry went: unsubscribes. */
  left(key: K): void {
    this.#link?.leave(this.#topic(key));
  }

  broadcast(key: K, data: Uint8Array | string, from: Connection | undefined): void {
    if (this.#deliver === undefined) throw new TypeError("Registry.broadcast needs the deliver option");
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    const topic = this.#link === undefined ? undefined : this.#topic(key);
    this.#deliverLocal(key, bytes, from);
    if (topic !== undefined) this.#link!.publish(topic, bytes);
  }

  /** `key`'s subscription, for a key with local entries. */
  ready(key: K): Promise<void> {
    return this.#link === undefined ? Promise.resolve() : this.#link.ready(this.#topic(key));
  }

  get status(): ClusterStatus | undefined {
    return this.#link?.status;
  }

  #topic(key: K): string {
    if (typeof key !== "string") throw new TypeError(`Registry with pubsub: keys must be strings, got ${describe(key)}`);
    return `${this.#name}:${key}`;
  }

  /** Calls `deliver` for each local member of `key` but `from`; one member's throw stops no other. */
  #deliverLocal(key: K, data: Uint8Array, from: Connection | undefined): void {
    const deliver = this.#deliver!;
    for (const entry of this.#lookup(key)) {
      if (entry.conn === from) continue;
      try {
        deliver(entry, data);
      } catch (error) {
        this.#logger.error(`corral: Registry deliver threw for key ${describe(key)}`, error);
      }
    }
  }
}
