import { samplesPerArm } from "../../analysis/light.js";
import { SpecsciError } from "../../core/index.js";
import type { CliContext } from "../context.js";
import { printJson } from "../output.js";

/** `specsci stats power` */
export function statsPower(
  ctx: CliContext,
  o: { p1: number; p2: number; alpha: number; power: number },
) {
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
}
