/**
 * Corral's protocol test kit (`corral/testing`): run a protocol over the
 * in-memory transport, with seeded network faults and a virtual clock, from
 * any test runner (vitest, `node:test`, `deno test`, `bun test`).
 *
 * @example Testing an echo protocol
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Protocol } from "./mod.ts";
 * import { testProtocol } from "./testing.ts";
 *
 * const echo: Protocol = async (conn) => {
 *   const socket = await conn.handshake();
 *   for await (const chunk of socket) await socket.send(chunk);
 * };
 * await testProtocol(echo, { fragment: { max: 3 } }, async (client) => {
 *   await client.send(new TextEncoder().encode("hello"));
 *   assert.equal(new TextDecoder().decode((await client.recv(5))!), "hello");
 * });
 * ```
 *
 * @module
 */
export { testProtocol, TestProtocolError } from "./testing/test_protocol.ts";
export type { TestProtocolContext, TestProtocolOptions } from "./testing/test_protocol.ts";
export { VirtualClock } from "./transports/memory/scheduler.ts";
export type { Scheduler, VirtualClockOptions } from "./transports/memory/scheduler.ts";
export { InjectedResetError } from "./transports/memory/faults.ts";
export type { FaultAmount, MemoryFaultOptions } from "./transports/memory/faults.ts";
