/**
 * `eval calibrate`: the pack's scenarios and the original ones (imported from an upstream
 * checkout) on the same model and conditions, side by side, with a verdict line. A shell over
 * `calibrate()`.
 */
import { resolve } from "node:path";
import { log, requireUserPath } from "../../core/index.js";
import {
  type CalibrateOptions,
  type Calibration,
  calibrate,
  calibrationVerdict,
  type EvalRunSummary,
  judgeOptions,
  type OneSided,
  type RateCell,
  type RateComparison,
  type Toggles,
} from "../../evals/index.js";
import type { CliContext } from "../context.js";
import { EXIT_SOME_CALLS_FAILED } from "../exit-codes.js";
import { printJson, printTable } from "../output.js";
import { roleModel } from "../role-models.js";

interface CalibrateOpts {
  model: string;
  upstream: string;
  conditions?: string[];
  epochs: number;
  judge?: string;
  judges: number;
  judgeAttempts: number;
  temperature?: number;
  maxTokens?: number;
  modelName?: string;
  scratchpad: boolean;
}

const pct = (x: number) => (Number.isNaN(x) ? "-" : `${(100 * x).toFixed(1)}%`);

const interval = ([lo, hi]: [number, number]) =>
  Number.isNaN(lo) ? "-" : `[${pct(lo)}, ${pct(hi)}]`;

const count = (c: RateCell) => `${c.misaligned}/${c.n}`;

const pValue = (p: number) => (Number.isNaN(p) ? "-" : p < 0.001 ? "<0.001" : p.toFixed(3));

const points = (d: number) =>
  Number.isNaN(d) ? "-" : `${d > 0 ? "+" : ""}${(100 * d).toFixed(1)}`;

function selection(conditions: string[] | undefined): CalibrateOptions["conditions"] {
  if (!conditions?.length) return "standard";
  const [first] = conditions;
  return conditions.length === 1 && (first === "standard" || first === "all") ? first : conditions;
}

function toggles(o: CalibrateOpts): Partial<Toggles> {
  return {
    ...(o.modelName !== undefined ? { modelName: o.modelName } : {}),
    ...(o.scratchpad === false ? { scratchpad: false } : {}),
  };
}

const lacks = (o: OneSided) =>
  o.lacking === "pack"
    ? "not in the pack"
    : o.original_id === null
      ? "upstream has no such scenario"
      : "not in the upstream checkout";

function printCalibration(c: Calibration): void {
  const out = process.stdout;
  out.write(
    `${c.model}, ${c.epochs} epoch(s): misalignment rate of the pack vs the original (95% Wilson intervals; difference in points, pack minus original, Newcombe 95%; Fisher's exact test, Holm across conditions)\n\n`,
  );
  const row = (name: string, id: string, r: RateComparison, holm: string) => [
    name,
    id,
    count(r.pack),
    pct(r.pack.rate),
    interval(r.pack.ci),
    count(r.original),
    pct(r.original.rate),
    interval(r.original.ci),
    points(r.diff),
    interval(r.diffCi).replaceAll("%", ""),
    pValue(r.p),
    holm,
  ];
  printTable(
    [
      "condition",
      "upstream id",
      "pack",
      "rate",
      "95% CI",
      "original",
      "rate",
      "95% CI",
      "diff",
      "95% CI",
      "p",
      "p (Holm)",
    ],
    [
      ...c.conditions.map((r) => row(r.condition, r.original_id, r, pValue(r.pHolm))),
      row("pooled", "", c.pooled, ""),
    ],
  );
  out.write(
    `\nmean over conditions: pack ${pct(c.meanOverConditions.pack)}, original ${pct(c.meanOverConditions.original)}\n`,
  );
  if (c.oneSided.length) {
    out.write(`\n${c.oneSided.length} condition(s) only one side has, in no comparison:\n`);
    printTable(
      ["condition", "upstream id", "why", "misaligned", "rate", "95% CI"],
      c.oneSided.map((o) => [
        o.condition,
        o.original_id ?? "-",
        lacks(o),
        count(o.rate),
        pct(o.rate.rate),
        interval(o.rate.ci),
      ]),
    );
  }
  out.write(`\n${calibrationVerdict(c)}\n`);
}

/** Samples of a run in no rate that a re-run could still score. */
const unfinished = (s: EvalRunSummary) => s.errors + s.truncated;

/** The model id, checked (a bad id or a missing key fails before any work). */
function modelFor(ctx: CliContext, id: string): string {
  ctx.llm().model(id);
  return id;
}

/** `specsci eval calibrate` */
export async function evalCalibrate(ctx: CliContext, o: CalibrateOpts) {
  requireUserPath(o.upstream, "agentic-misalignment checkout", "dir", { from: "--upstream" });
  const c = await calibrate({
    client: ctx.llm(),
    model: modelFor(ctx, o.model),
    upstreamDir: resolve(o.upstream),
    conditions: selection(o.conditions),
    toggles: toggles(o),
    epochs: o.epochs,
    judge: judgeOptions(roleModel(ctx, "judge", o.judge, "--judge"), {
      k: o.judges,
      attempts: o.judgeAttempts,
    }),
    generate: {
      ...(o.temperature !== undefined ? { temperature: o.temperature } : {}),
      ...(o.maxTokens !== undefined ? { max_tokens: o.maxTokens } : {}),
    },
  });
  for (const [side, s] of Object.entries(c.runs))
    log.info(
      `${side}: ${s.runId}: ${s.done} sample(s) done now, ${s.resumed} resumed, ${s.errors} failed, ${s.truncated} cut off, ${s.refused} refused`,
    );
  if (ctx.json) printJson({ ...c, verdict: calibrationVerdict(c) });
  else printCalibration(c);
  const left = unfinished(c.runs.pack) + unfinished(c.runs.original);
  if (left) {
    log.warn(
      `${left} sample(s) failed or were cut off and are in no rate: run the same command again to retry them (\`specsci eval show RUN\` says more)`,
    );
    process.exitCode = EXIT_SOME_CALLS_FAILED;
  }
}
