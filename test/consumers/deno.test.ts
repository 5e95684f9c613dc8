/** The consumer cases under `deno test -A test/consumers/deno.test.ts` (which type-checks with Deno's types). */
import { cases } from "./cases.ts";

// @ts-ignore: the repository's tsconfig (tsc, Node.js types) does not know the Deno namespace; deno test does.
for (const { name, run } of cases) Deno.test(name, run);
