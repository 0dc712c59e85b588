import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { samplesPerArm } from "../../analysis/stats.js";
import { SpecsciError } from "../../core/errors.js";
import type { ContextFactory } from "../context.js";
import { printJson } from "../output.js";

function probability(v: string): number {
  const n = Number(v);
  if (!(n > 0 && n < 1))
    throw new InvalidArgumentError("expected a probability strictly between 0 and 1");
  return n;
}

export function registerStatsCommands(program: Command, context: ContextFactory): void {
  const stats = program.command("stats").description("statistics helpers");
  stats
    .command("power")
    .description(
      "samples per arm to tell two misalignment rates apart (two-sided, arcsine approximation)",
    )
    .requiredOption("--p1 <p>", "rate in one arm", probability)
    .requiredOption("--p2 <p>", "rate in the other arm", probability)
    .option("--alpha <a>", "significance level", probability, 0.05)
    .option("--power <b>", "power", probability, 0.8)
    .action((o: { p1: number; p2: number; alpha: number; power: number }) => {
      const ctx = context();
      if (o.p1 === o.p2)
        throw new SpecsciError("--p1 and --p2 must differ: equal rates cannot be told apart");
      const r = samplesPerArm(o.p1, o.p2, { alpha: o.alpha, power: o.power });
      if (ctx.json) return printJson({ ...o, ...r });
      process.stdout.write(
        `${r.perArm} samples per arm to detect ${o.p1} vs ${o.p2} with power ${o.power} at alpha ${o.alpha} (two-sided; Cohen's h = ${r.cohensH.toFixed(3)}).\n` +
          "Samples within a scenario are correlated: spread them over scenarios, and use seeds, rather than adding epochs to one scenario.\n",
      );
    });
}
