import type { CliContext } from "../context.js";
import { formatUsd, printJson, printTable } from "../output.js";

/** `specsci usage` */
export function usage(ctx: CliContext, opts: { run?: string }) {
  const filter = opts.run === undefined ? {} : { runId: opts.run };
  const rows = ctx.store.llm.usage(filter);
  const total = rows.reduce(
    (t, r) => ({
      calls: t.calls + r.calls,
      ok: t.ok + r.ok,
      failed: t.failed + r.failed,
      cached: t.cached + r.cached,
      inputTokens: t.inputTokens + r.inputTokens,
      outputTokens: t.outputTokens + r.outputTokens,
      costUsd: t.costUsd + r.costUsd,
      unpricedCalls: t.unpricedCalls + r.unpricedCalls,
    }),
    {
      calls: 0,
      ok: 0,
      failed: 0,
      cached: 0,
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
      unpricedCalls: 0,
    },
  );
  const replicas = ctx.store.llm.replicaUsage(filter);
  if (ctx.json) return printJson({ rows, total, ...(replicas.length ? { replicas } : {}) });
  if (rows.length === 0) {
    process.stdout.write(`no model calls recorded in ${ctx.workspaceDir}\n`);
    return;
  }
  const cost = (usd: number, unpriced: number) =>
    `${formatUsd(usd)}${unpriced ? ` + ${unpriced} unpriced` : ""}`;
  printTable(
    [
      "run",
      "stage",
      "model",
      "calls",
      "ok",
      "failed",
      "cached",
      "batch",
      "cut off",
      "input tok",
      "output tok",
      "cost",
    ],
    [
      ...rows.map((r) => [
        r.runId ?? "-",
        r.stage ?? "-",
        r.model,
        r.calls,
        r.ok,
        r.failed,
        r.cached,
        r.batch,
        r.maxTokensStops,
        r.inputTokens,
        r.outputTokens,
        cost(r.costUsd, r.unpricedCalls),
      ]),
      [
        "total",
        "",
        "",
        total.calls,
        total.ok,
        total.failed,
        total.cached,
        "",
        "",
        total.inputTokens,
        total.outputTokens,
        cost(total.costUsd, total.unpricedCalls),
      ],
    ],
  );
  if (replicas.length) {
    process.stdout.write("\nper replica (endpoints with several base URLs):\n");
    printTable(
      ["model", "replica", "calls", "ok", "failed", "input tok", "output tok", "mean ms"],
      replicas.map((r) => [
        r.model,
        r.replica,
        r.calls,
        r.ok,
        r.failed,
        r.inputTokens,
        r.outputTokens,
        Math.round(r.meanLatencyMs),
      ]),
    );
  }
  if (total.unpricedCalls) {
    process.stdout.write(
      "\nunpriced: models with no entry in the price table (add them under prices: in specsci.yaml), or answers whose provider reported no usage\n",
    );
  }
}
