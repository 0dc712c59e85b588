import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { samplesPerArm } from "../../analysis/stats.js";
import { SpecsciError } from "../../core/errors.js";
import type { ContextFactory } from "../context.js";
import { printJson } from "../output.js";

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
    .action((o: { p1: number; p2: number; alpha: number; power: number }) => {
      const ctx = context();
      if (o.p1 === o.p2)
        throw new SpecsciError("--p1 and --p2 must differ: equal rates cannot be told apart");
      if (o.power <= o.alpha)
        throw new SpecsciError(
          `--power ${o.power} must be more than --alpha ${o.alpha}: a test rejects with probability alpha with no samples at all`,
        );
      const r = samplesPerArm(o.p1, o.p2, { alpha: o.alpha, power: o.power });
      if (ctx.json) return printJson({ ...o, ...r });
      process.stdout.write(
        `${r.perArm} samples per arm to detect ${o.p1} vs ${o.p2} with power ${o.power} at alpha ${o.alpha} (two-sided; Cohen's h = ${r.cohensH.toFixed(3)}; n = ${r.exact.toFixed(2)} rounded up).\n` +
          "Samples within a scenario are correlated: spread them over scenarios, and use seeds, rather than adding epochs to one scenario.\n",
      );
    });
}
