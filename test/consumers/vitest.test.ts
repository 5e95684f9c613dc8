/** The consumer cases under vitest: `vitest run --config test/consumers/vitest.config.ts`. */
import { test } from "vitest";
import { cases } from "./cases.ts";

for (const { name, run } of cases) test(name, run);
