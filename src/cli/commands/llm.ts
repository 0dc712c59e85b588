import { resolve } from "node:path";
import {
  checkOutputPath,
  hashValue,
  log,
  readUserFile,
  sha256Hex,
  writeFileAtomic,
} from "../../core/index.js";
import {
  type ChatOutcome,
  expandRequests,
  parseRequestsJsonl,
  type RequestItem,
  type RunRequestsOptions,
  resultLine,
  runRequests,
  type SamplingParams,
} from "../../llm/index.js";
import type { CliContext } from "../context.js";
import { EXIT_SOME_CALLS_FAILED } from "../exit-codes.js";
import { withInterrupt } from "../interrupt.js";
import { formatUsd, printJson } from "../output.js";

interface RunOptions {
  model: string;
  out?: string;
  run?: string;
  stage: string;
  samples: number;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  seed?: number;
  batch?: boolean;
  pollInterval?: number;
}

/** `specsci llm run` */
export async function llmRun(ctx: CliContext, file: string, opts: RunOptions) {
  const out = opts.out === undefined ? undefined : checkOutputPath(opts.out, "file", "-o/--out");
  const path = resolve(file);
  const text = readUserFile(path, "request file", { from: "the <requests.jsonl> argument" });
  const specs = parseRequestsJsonl(text, file);
  const params: Partial<SamplingParams> = {};
  if (opts.temperature !== undefined) params.temperature = opts.temperature;
  if (opts.topP !== undefined) params.top_p = opts.topP;
  if (opts.seed !== undefined) params.seed = opts.seed;
  if (opts.maxTokens !== undefined) params.max_tokens = opts.maxTokens;
  const items = expandRequests(specs, {
    params,
    samples: opts.samples,
    maxTokens: ctx.config.defaults.max_tokens,
  });

  const client = ctx.llm();
  client.model(opts.model); // fail now on a bad model id or a missing key
  const settings = {
    file: sha256Hex(text),
    model: opts.model,
    params,
    samples: opts.samples,
    batch: !!opts.batch,
  };
  const runId = opts.run ?? `llm-run-${hashValue(settings).slice(0, 12)}`;
  const store = ctx.store;
  store.runs.ensure({ id: runId, kind: "llm-run", name: file, config: settings });

  let outcomes: ChatOutcome[];
  try {
    outcomes = await withInterrupt((signal) => {
      const runOpts: RunRequestsOptions = {
        modelId: opts.model,
        batch: !!opts.batch,
        context: { runId, stage: opts.stage },
        signal,
      };
      if (opts.pollInterval !== undefined) runOpts.pollIntervalMs = opts.pollInterval * 1000;
      return runRequests(client, items, runOpts);
    });
  } catch (e) {
    store.runs.setStatus(runId, "interrupted");
    throw e;
  }

  const lines = outcomes.map((o, i) => resultLine(items[i] as RequestItem, o));
  const body = lines.length ? `${lines.join("\n")}\n` : "";
  if (out) {
    writeFileAtomic(out, body);
  } else {
    process.stdout.write(body);
  }

  const failed = outcomes.filter((o) => !o.ok);
  const truncated = outcomes.filter((o) => o.ok && o.stopReason === "max_tokens").length;
  // One answer of unknown cost (unpriced model, unreported usage) makes the total unknown.
  const cost = outcomes.some((o) => o.ok && o.costUsd === null)
    ? null
    : outcomes.reduce((a, o) => a + (o.ok ? (o.costUsd ?? 0) : 0), 0);
  store.runs.setStatus(runId, failed.length ? "failed" : "completed");
  const summary = {
    run: runId,
    requests: outcomes.length,
    ok: outcomes.length - failed.length,
    failed: failed.length,
    max_tokens_stops: truncated,
    cached: outcomes.filter((o) => o.ok && o.source === "cache").length,
    cost_usd: cost,
  };
  if (ctx.json && opts.out) printJson(summary);
  else
    log.info(
      `run ${runId}: ${summary.ok}/${summary.requests} ok, ${summary.failed} failed, ${summary.cached} from cache, ${truncated} cut off by max_tokens, cost ${formatUsd(cost)}`,
    );
  if (failed.length) {
    const kinds = new Map<string, number>();
    for (const f of failed) if (!f.ok) kinds.set(f.error.kind, (kinds.get(f.error.kind) ?? 0) + 1);
    log.warn(
      `${failed.length} calls failed (${[...kinds].map(([k, n]) => `${k}: ${n}`).join(", ")}); run the command again to retry them`,
    );
    process.exitCode = EXIT_SOME_CALLS_FAILED;
  }
}
