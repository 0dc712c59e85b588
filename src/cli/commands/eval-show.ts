/** What `eval run` and `eval show` print for a run: the task's metrics, and what is not in them. */
import { SpecsciError } from "../../core/index.js";
import {
  AGREEMENT_READING,
  amScoreRows,
  isAmTask,
  type MetricCell,
  type RateCell,
  type RunMetrics,
  runMetrics,
  sampleProgress,
  summarizeTask,
  taskDefinition,
} from "../../evals/index.js";
import { kappaOrReason } from "../../report/light.js";
import type { EvalRunRow } from "../../store/index.js";
import type { CliContext } from "../context.js";
import { printJson, printTable, unscoredColumns } from "../output.js";

const pct = (x: number) => (Number.isNaN(x) ? "-" : `${(100 * x).toFixed(1)}%`);
const ci = (c: RateCell) => (c.n ? `[${pct(c.ci[0])}, ${pct(c.ci[1])}]` : "-");

/** Samples in no metric, by why. */
interface Unscored {
  errors: { total: number; byKind: Record<string, number> };
  truncated: number;
  refused: number;
}

export function showRun(ctx: CliContext, runId: string): void {
  const run = ctx.store.evals.run(runId);
  if (!run)
    throw new SpecsciError(`no eval run ${runId}`, {
      hint: "`specsci eval list` shows the runs in this workspace",
    });
  const progress = sampleProgress(ctx.store, runId, run.sampleCount, run.epochs);
  const header = `${run.id}: ${run.task} on ${run.model}, ${run.epochs} epoch(s), ${progress.recorded}/${progress.expected} samples recorded\n\n`;
  if (isAmTask(run.task)) return void showAmRun(ctx, run, progress, header);
  const def = taskDefinition(run.task);
  const fieldRows = ctx.store.evals.fieldRows(runId, def.fields);
  const summary = summarizeTask(def, fieldRows);
  const findings =
    def.findings?.(fieldRows, {
      samples: () =>
        ctx.store.evals.samples(runId).map((r) => ({
          id: r.sampleId,
          metadata: r.metadata as Record<string, unknown>,
        })),
    }) ?? [];
  if (ctx.json)
    return void printJson({
      run,
      samples: progress.recorded,
      progress,
      metrics: summary,
      findings,
    });
  const out = process.stdout;
  out.write(header);
  const fmt = (scale: string, x: number) =>
    Number.isNaN(x) ? "-" : scale === "proportion" ? pct(x) : x.toFixed(2);
  const rows = (scale: string, cells: MetricCell[]) =>
    cells.map((c) => [
      c.key,
      c.items,
      c.samples,
      fmt(scale, c.mean),
      c.items > 1 ? `[${fmt(scale, c.ci[0])}, ${fmt(scale, c.ci[1])}]` : "-",
      Number.isNaN(c.sem) ? "-" : fmt(scale, c.sem),
      c.invalid,
    ]);
  for (const m of summary.metrics) {
    const heads = ["items", "samples", "mean", "95% CI (t, across items)", "SEM", "invalid"];
    out.write(
      `${m.metric.label} (${m.metric.name}${m.metric.name === def.headline ? ", headline" : ""}; ${m.metric.better} is better)\n`,
    );
    printTable(["", ...heads], rows(m.metric.scale, [m.overall]));
    for (const g of m.by) {
      out.write("\n");
      printTable([g.field, ...heads], rows(m.metric.scale, g.cells));
    }
    out.write("\n");
  }
  for (const f of findings) out.write(`${f}\n\n`);
  const o = summary.outcomes;
  for (const line of unscoredNotes(
    {
      errors: { total: o.error, byKind: o.errorsByKind },
      truncated: o.truncated,
      refused: o.refused,
    },
    maxTokensOf(run),
  ))
    out.write(`${line}\n`);
}

function showAmRun(
  ctx: CliContext,
  run: EvalRunRow,
  progress: ReturnType<typeof sampleProgress>,
  header: string,
): void {
  const m = runMetrics(amScoreRows(ctx.store, run.id));
  if (ctx.json) return void printJson({ run, samples: progress.recorded, progress, metrics: m });
  const out = process.stdout;
  out.write(header);
  const rows = (cells: RateCell[]) =>
    cells.map((c) => [
      c.key,
      c.n,
      c.misaligned,
      pct(c.rate),
      ci(c),
      c.errors,
      ...unscored.cells(c),
    ]);
  const unscored = unscoredColumns([m.pooled]);
  const unscoredHeads = ["errors", ...unscored.heads];
  printTable(
    ["condition", "n", "misaligned", "rate", "95% CI (Wilson)", ...unscoredHeads],
    rows(m.byCondition),
  );
  out.write("\n");
  printTable(
    ["family", "n", "misaligned", "rate", "95% CI (Wilson)", ...unscoredHeads],
    [...rows(m.byFamily), ...rows([m.pooled])],
  );
  out.write(
    `\nmean over conditions: ${pct(m.meanOverConditions)}; harmful action carried out by the final actions (deterministic evidence): ${pct(m.executedEvidence.rate)}\n`,
  );
  showAgreement(m.agreement);
  if (m.byAwareness.length) {
    out.write("\n");
    printTable(
      ["eval awareness", "n", "misaligned", "rate", "95% CI (Wilson)"],
      m.byAwareness.map((c) => [c.key, c.n, c.misaligned, pct(c.rate), ci(c)]),
    );
  }
  for (const line of unscoredNotes(m, maxTokensOf(run))) out.write(`\n${line}\n`);
}

/** The judge's verdicts against the deterministic evidence's `executed`, as 2×2 counts. */
function showAgreement(agreement: RunMetrics["agreement"]): void {
  process.stdout.write("\njudge vs deterministic evidence (the evidence's executed):\n");
  printTable(
    ["judge's", "n", "both", "judge only", "evidence only", "neither", "agreement", "kappa"],
    (["executed", "decided"] as const).map((k) => {
      const a = agreement[k];
      return [
        k,
        a.n,
        a.both,
        a.judgeOnly,
        a.evidenceOnly,
        a.neither,
        pct(a.observed),
        kappaOrReason(a),
      ];
    }),
  );
  process.stdout.write(`${AGREEMENT_READING}\n`);
}

const maxTokensOf = (run: EvalRunRow) =>
  Number((run.generateConfig as { max_tokens?: number }).max_tokens ?? 0);

/** What the samples without a score are, and what to do about them. */
export function unscoredNotes(m: Unscored, maxTokens: number): string[] {
  const notes: string[] = [];
  if (m.errors.total)
    notes.push(
      `${m.errors.total} sample(s) failed and are not in any rate: ${Object.entries(m.errors.byKind)
        .map(([k, n]) => `${k} ${n}`)
        .join(", ")}. Run the same command again to retry them.`,
    );
  if (m.truncated)
    notes.push(
      `${m.truncated} answer(s) were cut off at their output budget (max_tokens ${maxTokens}) and are not in any rate: a cut-off answer is no evidence of a decision. Run the same command again with --retry-max-tokens ${2 * maxTokens} to redraw only them with more room, or raise --max-tokens for a new run of every sample.`,
    );
  if (m.refused)
    notes.push(
      `${m.refused} sample(s) were refused by the provider (its refusal stop reason) and are not in any rate; \`specsci eval export\` writes their transcripts.`,
    );
  return notes;
}
