import { type Command, InvalidArgumentError } from "commander";
import type { ContextFactory } from "../context.js";
import { implementedIn } from "../lazy.js";

/** A number in [lo, hi], or in (lo, hi) when `open`. */
function inRange(lo: number, hi: number, open: boolean, what: string) {
  return (v: string): number => {
    const n = Number(v);
    const ok = v.trim() !== "" && (open ? n > lo && n < hi : n >= lo && n <= hi);
    if (!ok) throw new InvalidArgumentError(`expected ${what}`);
    return n;
  };
}
const rate = inRange(0, 1, false, "a rate between 0 and 1 (0 and 1 included)");
const level = inRange(0, 1, true, "a probability strictly between 0 and 1");

export function registerStatsCommands(program: Command, context: ContextFactory): void {
  const action = implementedIn(() => import("../commands/stats.js"), context);
  const stats = program.command("stats").description("statistics helpers");
  stats
    .command("power")
    .description(
      "samples per arm to tell two misalignment rates apart (two-sided test, arcsine approximation, as statsmodels' NormalIndPower)",
    )
    .requiredOption("--p1 <p>", "rate in one arm, 0 to 1", rate)
    .requiredOption("--p2 <p>", "rate in the other arm, 0 to 1", rate)
    .option("--alpha <a>", "significance level", level, 0.05)
    .option("--power <b>", "power (more than --alpha)", level, 0.8)
    .action(action("statsPower"));
}
