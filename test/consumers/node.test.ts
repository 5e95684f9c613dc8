/**
 * The consumer cases under `node:test`, on a Node.js that strips types
 * (≥ 23.6, or 22.18): `node --test test/consumers/node.test.ts`.
 */
import { test } from "node:test";
import { cases } from "./cases.ts";

for (const { name, run } of cases) test(name, run);
