import { resolve } from "node:path";
import {
  atomicLineFile,
  checkOutputPath,
  hashValue,
  log,
  requireUserPath,
  stdoutLines,
} from "../../core/index.js";
import {
  type ChatOutcome,
  RequestFile,
  type RunRequestsOptions,
  resultLine,
  runRequestsInOrder,
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
  const path = requireUserPath(resolve(file), "request file", "file", {
    from: "the <requests.jsonl> argument",
  });
  const params: Partial<SamplingParams> = {};
  if (opts.temperature !== undefined) params.temperature = opts.temperature;
  if (opts.topP !== undefined) params.top_p = opts.topP;
  if (opts.seed !== undefined) params.seed = opts.seed;
  if (opts.maxTokens !== undefined) params.max_tokens = opts.maxTokens;
  // Read as a stream, twice (checked whole first, then run), so no size of file is held whole.
  const requests = new RequestFile(path, file);
  const checked = await requests.check(opts.samples);
  const defaults = { params, maxTokens: ctx.config.defaults.max_tokens };

  const client = ctx.llm();
  client.model(opts.model); // fail now on a bad model id or a missing key
  const settings = {
    file: checked.sha256,
    model: opts.model,
    params,
    samples: opts.samples,
    batch: !!opts.batch,
  };
  const runId = opts.run ?? `llm-run-${hashValue(settings).slice(0, 12)}`;
  const store = ctx.store;
  store.runs.ensure({ id: runId, kind: "llm-run", name: file, config: settings });

  // Results are written as they come, in input order; a file appears only once it is whole.
  const sink = out ? atomicLineFile(out) : stdoutLines();
  const tally = new RunTally();
  try {
    await withInterrupt((signal) => {
      const runOpts: RunRequestsOptions = {
        modelId: opts.model,
        batch: !!opts.batch,
        context: { runId, stage: opts.stage },
        signal,
      };
      if (opts.pollInterval !== undefined) runOpts.pollIntervalMs = opts.pollInterval * 1000;
      return runRequestsInOrder(
        client,
        requests.items(defaults),
        checked.items,
        runOpts,
        (o, item) => {
          tally.add(o);
          return sink.write(resultLine(item, o));
        },
      );
    });
    await sink.commit();
  } catch (e) {
    sink.discard();
    store.runs.setStatus(runId, "interrupted");
    throw e;
  }
  store.runs.setStatus(runId, tally.failed ? "failed" : "completed");
  report(ctx, runId, tally, !!opts.out);
}

/** What a run's outcomes came to, counted as they stream past. */
class RunTally {
  requests = 0;
  failed = 0;
  truncated = 0;
  cached = 0;
  /** One answer of unknown cost (unpriced model, unreported usage) makes the total unknown. */
  cost: number | null = 0;
  readonly failures = new Map<string, number>();

  add(o: ChatOutcome): void {
    this.requests++;
    if (!o.ok) {
      this.failed++;
      this.failures.set(o.error.kind, (this.failures.get(o.error.kind) ?? 0) + 1);
      return;
    }
    if (o.stopReason === "max_tokens") this.truncated++;
    if (o.source === "cache") this.cached++;
    this.cost = this.cost === null || o.costUsd === null ? null : this.cost + (o.costUsd ?? 0);
  }
}

function report(ctx: CliContext, runId: string, t: RunTally, toFile: boolean): void {
  const summary = {
    run: runId,
    requests: t.requests,
    ok: t.requests - t.failed,
    failed: t.failed,
    max_tokens_stops: t.truncated,
    cached: t.cached,
    cost_usd: t.cost,
  };
  if (ctx.json && toFile) printJson(summary);
  else
    log.info(
      `run ${runId}: ${summary.ok}/${summary.requests} ok, ${summary.failed} failed, ${summary.cached} from cache, ${t.truncated} cut off by max_tokens, cost ${formatUsd(t.cost)}`,
    );
  if (t.failed) {
    log.warn(
      `${t.failed} calls failed (${[...t.failures].map(([k, n]) => `${k}: ${n}`).join(", ")}); run the command again to retry them`,
    );
    process.exitCode = EXIT_SOME_CALLS_FAILED;
  }
}
