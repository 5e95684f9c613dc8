/** The consumer cases under `bun test test/consumers/bun.test.ts`. */
// @ts-ignore: the repository's tsconfig has no Bun types (bun-types is not installed); Bun does not type-check.
import { test } from "bun:test";
import { cases } from "./cases.ts";

for (const { name, run } of cases) test(name, run);
