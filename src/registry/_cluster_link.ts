/**
 * A registry's link to the broker: one subscription per key with local
 * members, the framing of broadcasts with this node's id, and the drop
 * policy while the broker is unreachable (count, never queue).
 *
 * @module
 */
import { clusterStatusChannel } from "../telemetry/channels.ts";
import type { ClusterStatusEvent } from "../telemetry/events.ts";
import { decodeFrame, encodeFrame, newNodeId } from "./_cluster_frame.ts";
import type { ClusterStatus, PubSub, Unsubscribe } from "./pubsub.ts";

/**
 * Publishes still waiting for the broker's answer (node-redis answers each
 * one) past which copies are dropped: a broker that is slow, not down, must
 * not grow this process's memory either.
 */
export const MAX_PENDING_PUBLISHES = 10_000;

/** One key's broker subscription. */
interface Subscription {
  /** Settles when the broker has the subscription (rejects when it refused). */
  ready: Promise<void>;
  /** Set once subscribed; called when the last local member leaves. */
  unsubscribe: Unsubscribe | undefined;
  /** False once the last local member left (possibly before the broker answered). */
  wanted: boolean;
}

const ALREADY: Promise<void> = Promise.resolve();

/** Broker traffic of one registry. */
export class ClusterLink {
  readonly #pubsub: PubSub;
  readonly #node = newNodeId();
  readonly #nodeName = Array.from(this.#node, (byte) => byte.toString(16).padStart(2, "0")).join("");
  readonly #subscriptions = new Map<string, Subscription>();
  #pending = 0;
  #published = 0;
  #received = 0;
  #dropped = 0;
  #malformed = 0;
  #dropping = false;
  #lastError: unknown = undefined;

  constructor(pubsub: PubSub) {
    this.#pubsub = pubsub;
  }

  /** Subscribes to `topic` for the first local member of a key; `deliver` gets other nodes' payloads. */
  join(topic: string, deliver: (payload: Uint8Array) => void): void {
    const subscription: Subscription = { ready: ALREADY, unsubscribe: undefined, wanted: true };
    const onMessage = (frame: Uint8Array) => {
      // A message in flight when the key was left (and maybe joined again) is not this subscription's.
      if (!subscription.wanted) return;
      const payload = decodeFrame(this.#node, frame);
      if (payload === null) return; // this node's own broadcast, already delivered locally
      if (payload === undefined) {
        this.#malformed++;
        return;
      }
      this.#received++;
      deliver(payload);
    };
    const subscribed = (async () => await this.#pubsub.subscribe(topic, onMessage))();
    subscription.ready = subscribed.then(
      (unsubscribe) => {
        if (subscription.wanted) subscription.unsubscribe = unsubscribe;
        else this.#end(unsubscribe);
      },
      (error) => {
        this.#lastError = error;
        throw error;
      },
    );
    subscription.ready.catch(() => {}); // reported through ready() and lastError, never as unhandled
    this.#subscriptions.set(topic, subscription);
  }

  /** Unsubscribes from `topic` when the last local member of its key left. */
  leave(topic: string): void {
    const subscription = this.#subscriptions.get(topic);
    if (subscription === undefined) return;
    this.#subscriptions.delete(topic);
    subscription.wanted = false;
    if (subscription.unsubscribe !== undefined) this.#end(subscription.unsubscribe);
  }

  /** Settles when `topic`'s subscription is in place (at once when there is none). */
  ready(topic: string): Promise<void> {
    return this.#subscriptions.get(topic)?.ready ?? ALREADY;
  }

  /** Hands `payload` to the broker for the other nodes, or drops and counts it. Never throws. */
  publish(topic: string, payload: Uint8Array): void {
    if (!this.#pubsub.connected || this.#pending >= MAX_PENDING_PUBLISHES) return this.#drop(undefined);
    let sent: void | Promise<void>;
    try {
      sent = this.#pubsub.publish(topic, encodeFrame(this.#node, payload));
    } catch (error) {
      return this.#drop(error);
    }
    // Counted when handed over, so `published + dropped` is every broadcast at any moment.
    this.#published++;
    if (sent === undefined || typeof sent.then !== "function") return this.#delivering();
    this.#pending++;
    sent.then(
      () => {
        this.#pending--;
        this.#delivering();
      },
      (error) => {
        this.#pending--;
        this.#published--;
        this.#drop(error);
      },
    );
  }

  get status(): ClusterStatus {
    return Object.freeze({
      node: this.#nodeName,
      connected: this.#pubsub.connected,
      subscriptions: this.#subscriptions.size,
      published: this.#published,
      received: this.#received,
      dropped: this.#dropped,
      malformed: this.#malformed,
      lastError: this.#lastError,
    });
  }

  #end(unsubscribe: Unsubscribe): void {
    try {
      const done = unsubscribe();
      if (done !== undefined && typeof done.then === "function") done.then(undefined, (error) => this.#lastError = error);
    } catch (error) {
      this.#lastError = error;
    }
  }

  /** A publish went out: ends a dropping episode. */
  #delivering(): void {
    if (this.#dropping) {
      this.#dropping = false;
      this.#announce("delivering", undefined);
    }
  }

  #drop(error: unknown): void {
    this.#dropped++;
    if (error !== undefined) this.#lastError = error;
    if (!this.#dropping) {
      this.#dropping = true;
      this.#announce("dropping", error);
    }
  }

  #announce(state: ClusterStatusEvent["state"], error: unknown): void {
    if (!clusterStatusChannel.hasSubscribers) return;
    const event: ClusterStatusEvent = { node: this.#nodeName, state, dropped: this.#dropped, error };
    clusterStatusChannel.publish(event);
  }
}
