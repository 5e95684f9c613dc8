/**
 * The transport conformance suite, looped over every transport (tcp over IPv4
 * and IPv6, unix, memory) on every runtime.
 */
import assert from "node:assert/strict";
import { ClosedError } from "../mod.ts";
import { suite, test } from "./_harness.ts";
import { defineConformance } from "./_conformance.ts";
import { idle, start, transports } from "./_fixtures.ts";

for (const fixture of transports) {
  suite(`conformance ${fixture.name}`, () => defineConformance(fixture));
}

suite("connect errors", () => {
  for (const fx of transports) {
    test(`${fx.name}: connecting where nothing listens is refused`, async () => {
      const listener = await start({ transport: fx.make(), protocol: idle });
      await listener.stop();
      const error = await fx.connect(listener).then(() => undefined, (e) => e);
      assert.ok(error instanceof ClosedError, `expected ClosedError, got ${error}`);
      assert.ok(["ECONNREFUSED", "ENOENT"].includes(error.code), `code ${error.code}`);
    });
  }
});
