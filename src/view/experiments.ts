/**
 * The experiments of a store as the dashboard shows them. Each experiment's stage graph is rebuilt
 * from the experiment file's text that `specsci run` recorded (no file needed, no model called),
 * so its stage status, spend and report come from the same functions as `specsci status` and
 * `specsci report`.
 */
import { collectGarbage } from "../core/memory.js";
import { type CodeVersion, codeVersion } from "../core/provenance.js";
import { sampleProgress } from "../evals/progress.js";
import { experimentFromSource, type LoadedExperiment } from "../experiment/config.js";
import { type ArmAnalysis, armAnalyses } from "../experiment/reasoning.js";
import { stageStatus, stagesSpend } from "../experiment/run.js";
import { buildStages, type StageGraph } from "../experiment/stages.js";
import type { LlmClient } from "../llm/client.js";
import {
  experimentRates,
  experimentResults,
  mainChart,
  ratesOfReport,
  reportCharts,
} from "../report/index.js";
import type { RunRecord } from "../store/index.js";
import type {
  ExperimentRatesResponse,
  ExperimentResponse,
  ExperimentSummary,
  StageSummary,
} from "./api-types.js";

/** What `runExperiment` records in the experiment's run config (older stores lack file/source). */
interface ExperimentRecord {
  experiment?: {
    name?: string;
    description?: string;
    arms?: { name: string; kind: string }[];
    models?: string[];
    seeds?: number[];
    evals?: { name: string; task: string }[];
  };
  stages?: { key: string; runId: string }[];
  data?: { run?: string }[];
  code?: CodeVersion;
  file?: string;
  source?: string;
}

export type StageLabels = Pick<StageSummary, "runId" | "arm" | "model" | "eval" | "seed">;

export type Rebuilt = { loaded: LoadedExperiment; graph: StageGraph } | { problem: string };

/** `eval/<arm>/<model>/<eval>/seed-<n>`: arm and eval names have no slash, model ids may. */
function parseStageKey(key: string): Pick<StageSummary, "arm" | "model" | "eval" | "seed"> {
  const parts = key.split("/");
  return {
    arm: parts[1] ?? "",
    model: parts.slice(2, -2).join("/"),
    eval: parts.at(-2) ?? "",
    seed: Number((parts.at(-1) ?? "").replace(/^seed-/, "")),
  };
}

/**
 * Samples up to which the Experiment page gets its whole report in one answer: its report takes
 * about 0.5 s at 10,000 samples on 2 shared cores (bench/experiment-report.ts: 10 s of CPU at
 * 200,000); above, the rates and the main figure come first and the rest in a second request.
 */
const SMALL_EXPERIMENT = 10_000;

export class ExperimentIndex {
  private readonly graphs = new Map<string, { stamp: string; rebuilt: Rebuilt }>();
  private readonly details = new Map<string, { version: number; value: ExperimentResponse }>();
  private readonly reasoning = new Map<string, { stamp: string; analyses: ArmAnalysis[] }>();

  /**
   * `client` reads the dashboard's read-only store; it never calls a model here. `wholeUpTo`:
   * samples up to which the rates come with the whole report (SMALL_EXPERIMENT).
   */
  constructor(
    private readonly client: LlmClient,
    private readonly options: { wholeUpTo?: number } = {},
  ) {}

  private get store() {
    return this.client.store;
  }

  async list(): Promise<ExperimentSummary[]> {
    const out: ExperimentSummary[] = [];
    for (const run of this.store.runs.ofKind("experiment"))
      out.push(this.summary(run, await this.rebuild(run)));
    return out;
  }

  /** An experiment's stages with their labels (for the sample table), without their counts. */
  async stages(id: string): Promise<StageLabels[] | undefined> {
    const run = this.store.runs.get(id);
    if (run?.kind !== "experiment") return undefined;
    const rebuilt = await this.rebuild(run);
    if ("graph" in rebuilt)
      return rebuilt.graph.stages.map((s) => ({
        runId: s.runId,
        arm: s.arm.name,
        model: s.experimentModel,
        eval: s.eval.name,
        seed: s.seed,
      }));
    return ((run.config as ExperimentRecord).stages ?? []).map((s) => ({
      runId: s.runId,
      ...parseStageKey(s.key),
    }));
  }

  /** An experiment's definition and stage graph (or why they cannot be rebuilt); undefined: none. */
  async rebuilt(id: string): Promise<{ run: RunRecord; rebuilt: Rebuilt } | undefined> {
    const run = this.store.runs.get(id);
    return run?.kind === "experiment" ? { run, rebuilt: await this.rebuild(run) } : undefined;
  }

  /** The ids of the store's experiments, oldest first. */
  ids(): string[] {
    return this.store.runs.ofKind("experiment").map((r) => r.id);
  }

  /**
   * The reasoning analyses of an experiment's arms (what the report reads: one per arm × model,
   * empty without `analysis.reasoning`); undefined when there is no such experiment.
   */
  async analyses(id: string): Promise<ArmAnalysis[] | undefined> {
    const run = this.store.runs.get(id);
    if (run?.kind !== "experiment") return undefined;
    const cached = this.reasoning.get(id);
    if (cached?.stamp === run.updatedAt) return cached.analyses;
    const rebuilt = await this.rebuild(run);
    const analyses =
      "graph" in rebuilt ? armAnalyses(rebuilt.loaded, rebuilt.graph, this.store) : [];
    this.reasoning.set(id, { stamp: run.updatedAt, analyses });
    return analyses;
  }

  /**
   * The experiment and arm analysis whose transcripts include an eval run's, if any; a problem
   * when an experiment's analysis cannot be read (its taxonomy file is gone).
   */
  async analysisOfRun(
    runId: string,
  ): Promise<{ experiment: string; analysis: ArmAnalysis } | { problem: string } | undefined> {
    for (const run of this.store.runs.ofKind("experiment")) {
      const stages = await this.stages(run.id);
      if (!stages?.some((s) => s.runId === runId)) continue;
      try {
        const analysis = (await this.analyses(run.id))?.find((a) => a.runIds.includes(runId));
        if (analysis) return { experiment: run.id, analysis };
      } catch (e) {
        return {
          problem: `cannot read the reasoning analysis of ${run.id}: ${(e as Error).message}`,
        };
      }
    }
    return undefined;
  }

  /**
   * One experiment's pooled rates and main figure, what its page draws first: read from the
   * verdict counts (no JSON), so they come in a fraction of the report's time. From the kept
   * report when it is already computed for this version.
   */
  async rates(id: string, version: number): Promise<ExperimentRatesResponse | undefined> {
    const run = this.store.runs.get(id);
    if (run?.kind !== "experiment") return undefined;
    const rebuilt = await this.rebuild(run);
    const summary = this.summary(run, rebuilt);
    if (!("graph" in rebuilt)) return { summary, rates: null, charts: [], reportKept: false };
    // The kept report answers; so does a small experiment's, made now (it takes less than a
    // second request would): the page then draws it whole, at once.
    const recorded = summary.stages.reduce(
      (n, s) => n + s.done + s.errors + s.truncated + s.refused,
      0,
    );
    if (
      this.details.get(id)?.version === version ||
      recorded <= (this.options.wholeUpTo ?? SMALL_EXPERIMENT)
    ) {
      const value = await this.detail(id, version);
      const report = value?.report ?? null;
      return {
        summary,
        rates: report && ratesOfReport(report),
        charts: (value?.charts ?? []).filter((c) => c.id === "main"),
        reportKept: true,
      };
    }
    const rates = experimentRates(rebuilt.loaded, rebuilt.graph, this.store);
    const main = rates.am ? await mainChart(rates) : null;
    return {
      summary,
      rates,
      charts: main ? [{ id: main.id, title: main.title, spec: main.spec }] : [],
      reportKept: false,
    };
  }

  /** One experiment with its report, recomputed once per change of the store (`version`). */
  async detail(id: string, version: number): Promise<ExperimentResponse | undefined> {
    const cached = this.details.get(id);
    if (cached?.version === version) return cached.value;
    const run = this.store.runs.get(id);
    if (run?.kind !== "experiment") return undefined;
    const rebuilt = await this.rebuild(run);
    const summary = this.summary(run, rebuilt);
    let value: ExperimentResponse = { summary, report: null, charts: [] };
    if ("graph" in rebuilt) {
      const code = (run.config as ExperimentRecord).code ?? codeVersion();
      const { examples: _, ...report } = experimentResults(
        rebuilt.loaded,
        rebuilt.graph,
        this.store,
        code,
        { examples: false },
      );
      const charts = (await reportCharts({ ...report, examples: [] })).map((c) => ({
        id: c.id,
        title: c.title,
        spec: c.spec,
      }));
      value = { summary, report, charts };
      // The report's working memory is garbage once it is kept and sent: give it back while the
      // page reads it (setImmediate runs after the answer is serialised and written).
      setImmediate(collectGarbage);
    }
    this.details.set(id, { version, value });
    return value;
  }

  /** The stage graph, rebuilt when the run's record changed (a new definition was run). */
  private async rebuild(run: RunRecord): Promise<Rebuilt> {
    const cached = this.graphs.get(run.id);
    if (cached?.stamp === run.updatedAt) return cached.rebuilt;
    const record = run.config as ExperimentRecord;
    let rebuilt: Rebuilt;
    if (record.source === undefined || record.file === undefined)
      rebuilt = {
        problem:
          "this experiment was run by a specsci that did not record its file: run it again (`specsci run`, finished work is kept) to see its report here",
      };
    else
      try {
        const loaded = experimentFromSource(record.source, record.file);
        rebuilt = { loaded, graph: await buildStages(loaded, this.client) };
      } catch (e) {
        rebuilt = { problem: `cannot rebuild ${record.file}: ${(e as Error).message}` };
      }
    this.graphs.set(run.id, { stamp: run.updatedAt, rebuilt });
    return rebuilt;
  }

  private summary(run: RunRecord, rebuilt: Rebuilt): ExperimentSummary {
    const record = run.config as ExperimentRecord;
    const e = record.experiment ?? {};
    const dataRuns = (record.data ?? []).flatMap((d) => (d.run ? [d.run] : []));
    let stages: StageSummary[];
    let spentUsd: number;
    if ("graph" in rebuilt) {
      const byKey = new Map(rebuilt.graph.stages.map((s) => [s.key, s]));
      stages = stageStatus(rebuilt.graph.stages, this.client).map((s) => {
        const st = byKey.get(s.key);
        return {
          ...s,
          arm: st?.arm.name ?? "",
          model: st?.experimentModel ?? "",
          eval: st?.eval.name ?? "",
          seed: st?.seed ?? 0,
        };
      });
      spentUsd = stagesSpend(rebuilt.graph.stages, this.client, run.id, dataRuns);
    } else {
      stages = (record.stages ?? []).map((s) => this.recordedStage(s));
      spentUsd = this.spend([run.id, ...dataRuns]) + stages.reduce((t, s) => t + s.spentUsd, 0);
    }
    const sum = (f: (s: StageSummary) => number) => stages.reduce((t, s) => t + f(s), 0);
    return {
      id: run.id,
      name: e.name ?? run.name ?? run.id,
      description: e.description ?? null,
      status: run.status,
      createdAt: run.createdAt,
      updatedAt: run.updatedAt,
      arms: (e.arms ?? []).map((a) => ({ name: a.name, kind: a.kind })),
      models: e.models ?? [],
      seeds: e.seeds ?? [],
      evals: (e.evals ?? []).map((v) => ({ name: v.name, task: v.task })),
      stages,
      totals: {
        samples: stages.some((s) => s.samples === null) ? null : sum((s) => s.samples ?? 0),
        done: sum((s) => s.done),
        errors: sum((s) => s.errors),
        truncated: sum((s) => s.truncated),
        refused: sum((s) => s.refused),
      },
      spentUsd,
      problem: "problem" in rebuilt ? rebuilt.problem : null,
    };
  }

  /** A stage known only by its recorded key and run (the graph could not be rebuilt). */
  private recordedStage(s: { key: string; runId: string }): StageSummary {
    const run = this.store.evals.run(s.runId);
    const p = sampleProgress(this.store, s.runId, run?.sampleCount ?? 0, run?.epochs ?? 0);
    return {
      key: s.key,
      runId: s.runId,
      ...parseStageKey(s.key),
      samples: run ? p.expected : null,
      done: p.done,
      errors: p.errors,
      truncated: p.truncated,
      refused: p.refused,
      spentUsd: this.spend([s.runId]),
      state:
        p.recorded === 0
          ? "not started"
          : p.done + p.refused === p.expected
            ? "done"
            : p.recorded === p.expected
              ? "done with errors"
              : "partial",
    };
  }

  private spend(runIds: string[]): number {
    return this.store.llm.spentUsd(runIds);
  }
}
