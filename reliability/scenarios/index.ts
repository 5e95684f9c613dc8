/** The scenarios, in the order they run and the numbering RELIABILITY.md uses. */
import type { ScenarioResult } from "../_lib.ts";
import type { Context } from "./_context.ts";
import { churn } from "./churn.ts";
import { crash } from "./crash.ts";
import { emfile } from "./emfile.ts";
import { fuzz } from "./fuzz.ts";
import { graceful } from "./graceful.ts";
import { halfopen } from "./halfopen.ts";
import { slowloris } from "./slowloris.ts";
import { slowreader } from "./slowreader.ts";

export const scenarios: Record<string, (ctx: Context) => Promise<ScenarioResult>> = {
  crash,
  emfile,
  slowloris,
  graceful,
  churn,
  slowreader,
  fuzz,
  halfopen,
};
