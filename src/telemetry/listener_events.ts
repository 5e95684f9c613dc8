/**
 * The listener's point channels: `corral:listener:start`, `:stop`,
 * `:suspend` and `:resume`, published by the listener as each step is done.
 *
 * @module
 */
import {
  type Channel,
  listenerResumeChannel,
  listenerStartChannel,
  listenerStopChannel,
  listenerSuspendChannel,
} from "./channels.ts";
import type { ListenerEvent } from "./events.ts";

/** The channel of each step of a listener's life. */
const CHANNELS: Readonly<Record<"start" | "stop" | "suspend" | "resume", Channel>> = {
  start: listenerStartChannel,
  stop: listenerStopChannel,
  suspend: listenerSuspendChannel,
  resume: listenerResumeChannel,
};

/** What a listener message says of the listener. */
interface Announced {
  readonly ref: string;
  readonly address: unknown;
}

/** Publishes that `listener` (of transport `transport`) did `step`, if anyone listens. */
export function announce(step: keyof typeof CHANNELS, listener: Announced, transport: string): void {
  const channel = CHANNELS[step];
  if (!channel.hasSubscribers) return;
  const event: ListenerEvent = { ref: listener.ref, listener, transport, address: listener.address };
  channel.publish(event);
}
