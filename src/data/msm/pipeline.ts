/**
 * Builds an MSM corpus: the tree (domains → … → ideas), documents in waves until the token
 * budget is met, gates, the optional judge, dedup, the contamination check and stratified
 * trimming. Every model answer is an item in the store, so the whole build resumes after a kill;
 * what is derived from the items (dedup, trimming) is recomputed, deterministically.
 */
import { SpecsciError } from "../../core/errors.js";
import type { LlmClient } from "../../llm/client.js";
import type { Spec } from "../../spec/model.js";
import { getTokenizer } from "../../spec/tokens.js";
import type { MsmItemRow } from "../../store/index.js";
import { type ContaminationIndex, contaminationIndex, overlapWith } from "../contamination.js";
import { type Duplicate, findDuplicates } from "../dedup/index.js";
import { allocateExtra, type BudgetDoc, type TrimResult, trimToBudget } from "./budget.js";
import { type MsmConfig, STAGES, type StageName, stageSettings } from "./config.js";
import { type CorpusContext, corpusContext } from "./context.js";
import { type DocumentRecord, documentJob, type JudgeRecord, judgeJob } from "./documents.js";
import { type ItemJob, runStage } from "./executor.js";
import { GATES, type GateName, relevanceContext } from "./gates.js";
import {
  type Assertion,
  assertionJobs,
  docTypeJobs,
  domainNodes,
  domainsJob,
  type Idea,
  ideaJobs,
  ideaNodes,
  subdomainJobs,
  subdomainNodes,
  typeNodes,
  unsuitableTypes,
} from "./tree.js";

export interface BuildOptions {
  spec: Spec;
  specHash: string;
  specName: string;
  config: MsmConfig;
  client: LlmClient;
  /** Evaluation texts to check for overlap (the scenario pack), and where they came from. */
  contamination?: { texts: string[]; source: string };
  signal?: AbortSignal;
  log?: (message: string) => void;
}

/** A document of the finished corpus with where it came from. */
export interface CorpusDocument {
  key: string;
  idea: Idea;
  record: DocumentRecord;
  judge: JudgeRecord | null;
}

export interface StageCount {
  ok: number;
  failed: number;
  /** Failed items by kind: `call` (the model call failed) or `invalid` (no valid answer). */
  failedByKind: Record<string, number>;
  /** The first failure's message, to show with the counts. */
  example?: string;
}

export interface CorpusBuild {
  ctx: CorpusContext;
  documents: CorpusDocument[];
  tree: {
    domains: number;
    subdomains: number;
    assertions: number;
    doc_types: number;
    ideas: number;
    unsuitable_types: number;
  };
  stages: Record<string, StageCount>;
  generated: number;
  waves: number;
  gates: Record<GateName, number>;
  truncation: { truncated_once: number; regenerated: number; rate: number };
  dedup: { exact: number; near: number; duplicates: Duplicate[]; params: unknown };
  contamination: {
    source: string;
    ngram: number;
    documents: number;
    enforced: boolean;
    dropped: number;
    examples: { id: string; ngrams: string[] }[];
  } | null;
  budget: {
    target_tokens: number | null;
    tolerance: number;
    tokens_before_trim: number;
    trimmed_documents: number;
    trimmed_tokens: number;
    tokens: number;
    reached: boolean;
    within_tolerance: boolean;
  };
  judge: {
    model: string;
    judged: number;
    mean_realism: number | null;
    mean_faithfulness: number | null;
  } | null;
}

/** Numeric order of tree keys (`d1.s2.t10` after `d1.s2.t9`). */
export function compareKeys(a: string, b: string): number {
  const x = a.match(/\d+/g)?.map(Number) ?? [];
  const y = b.match(/\d+/g)?.map(Number) ?? [];
  for (let i = 0; i < Math.min(x.length, y.length); i++)
    if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  return x.length - y.length;
}

const repOf = (key: string) => Number(/\.r(\d+)$/.exec(key)?.[1] ?? 0);

export async function buildCorpus(o: BuildOptions): Promise<CorpusBuild> {
  const { config, client } = o;
  const log = o.log ?? (() => {});
  const ctx = corpusContext(o.spec, o.specHash, o.specName, config);
  client.store.runs.ensure({
    id: ctx.corpusId,
    kind: "msm",
    name: config.name ?? o.specName,
    config: { spec: o.specHash, config },
  });
  const stage = async <T>(
    name: StageName,
    jobs: ItemJob<T>[],
  ): Promise<Map<string, MsmItemRow>> => {
    const s = stageSettings(config, name);
    const out = await runStage(
      {
        client,
        corpusId: ctx.corpusId,
        stage: name,
        model: s.model,
        maxTokens: s.max_tokens,
        attempts: config.attempts,
        concurrency: config.concurrency,
        batch: config.batch,
        ...(o.signal ? { signal: o.signal } : {}),
      },
      jobs,
    );
    if (out.ran) log(`${name}: ${out.ran} item(s) generated`);
    return out.rows;
  };

  // The tree. A level with no usable item at all ends the build: nothing below it can be made.
  const required = <T>(level: StageName, nodes: T[], rows: Map<string, MsmItemRow>): T[] => {
    if (nodes.length) return nodes;
    const failure = [...rows.values()].find((r) => r.status === "failed")?.error;
    throw new SpecsciError(
      `MSM ${level}: no usable answer from ${stageSettings(config, level).model}${failure ? ` (${failure.kind}: ${failure.message})` : ""}`,
      {
        hint: "check the model with `specsci models test`, or look at the answers with `specsci usage`; a rerun retries failed calls",
      },
    );
  };
  const domainRows = await stage("domains", [domainsJob(ctx)]);
  const domains = required("domains", domainNodes(domainRows), domainRows);
  const subRows = await stage("subdomains", subdomainJobs(ctx, domains));
  const subs = required("subdomains", subdomainNodes(domains, subRows), subRows);
  const assertionRows = await stage("assertions", assertionJobs(ctx, subs));
  const assertions = new Map<string, Assertion[]>();
  for (const s of subs) {
    const r = assertionRows.get(`assertions:${s.key}`);
    if (r?.status === "ok") assertions.set(s.key, r.value as Assertion[]);
  }
  const types = typeNodes(
    subs,
    assertions,
    await stage("doc_types", docTypeJobs(ctx, subs, assertions)),
  );
  const ideaRows = await stage("ideas", ideaJobs(ctx, types));
  const ideas = required("ideas", ideaNodes(types, ideaRows), ideaRows);
  const ideaByKey = new Map(ideas.map((i) => [i.key, i]));
  const strata = types
    .filter((t) => ideas.some((i) => i.type === t))
    .map((t) => ({ domain: t.sub.domain.key, type: t.key }));

  // Documents, in waves.
  const tokenizer = getTokenizer(config.tokenizer);
  const relevance = relevanceContext(o.spec, ctx.subject.mentions, config.gates.min_spec_terms);
  const target = config.budget.target_tokens;
  const docsPerIdea = config.counts.docs_per_idea;
  let docRows = await stage(
    "documents",
    ideas.flatMap((idea) =>
      Array.from({ length: docsPerIdea }, (_, r) =>
        documentJob(ctx, idea, r, tokenizer, relevance),
      ),
    ),
  );
  let judgeRows = new Map<string, MsmItemRow>();
  const judgeCfg = config.gates.judge;
  const index: ContaminationIndex | undefined = o.contamination
    ? contaminationIndex(o.contamination.texts, config.contamination.ngram)
    : undefined;

  const ideaOf = (key: string) => ideaByKey.get(key.replace(/\.r\d+$/, ""));
  /** The documents of this tree (extra repetitions count only while a budget asks for them). */
  const treeDocs = () =>
    [...docRows.values()]
      .filter((r) => ideaOf(r.key) && (target !== undefined || repOf(r.key) < docsPerIdea))
      .sort((a, b) => compareKeys(a.key, b.key));

  let waves = 0;
  let state: Awaited<ReturnType<typeof screen>>;
  async function screen() {
    if (judgeCfg) {
      const toJudge = treeDocs().filter(
        (r) => r.status === "ok" && (r.value as DocumentRecord).gate === null,
      );
      judgeRows = await stage(
        "judge",
        toJudge.map((r) =>
          judgeJob(
            ctx,
            r.key,
            ideaOf(r.key) as Idea,
            (r.value as DocumentRecord).content as string,
          ),
        ),
      );
    }
    const passed: CorpusDocument[] = [];
    const gates = Object.fromEntries(GATES.map((g) => [g, 0])) as Record<GateName, number>;
    let truncatedOnce = 0;
    let regenerated = 0;
    let generated = 0;
    for (const r of treeDocs()) {
      if (r.status !== "ok") continue;
      generated++;
      const rec = r.value as DocumentRecord;
      if (rec.truncated_once) {
        truncatedOnce++;
        if (rec.gate !== "truncated") regenerated++;
      }
      if (rec.gate) {
        gates[rec.gate]++;
        continue;
      }
      let judge: JudgeRecord | null = null;
      if (judgeCfg) {
        const j = judgeRows.get(`judge:${r.key}`);
        if (j?.status !== "ok") {
          gates.judge_failed++;
          continue;
        }
        judge = j.value as JudgeRecord;
        if (
          judge.realism < judgeCfg.min_realism ||
          judge.faithfulness < judgeCfg.min_faithfulness
        ) {
          gates.judge_rejected++;
          continue;
        }
      }
      passed.push({ key: r.key, idea: ideaOf(r.key) as Idea, record: rec, judge });
    }
    const dd = await findDuplicates(
      passed.map((d) => ({ id: d.key, text: d.record.content as string })),
      {
        exact: config.dedup.exact,
        near:
          config.dedup.near === false
            ? false
            : {
                threshold: config.dedup.near.threshold,
                numPerm: config.dedup.near.num_perm,
                shingle: config.dedup.near.shingle,
                seed: config.seed,
              },
      },
    );
    const dup = new Set(dd.duplicates.map((d) => d.id));
    const unique = passed.filter((d) => !dup.has(d.key));
    const contaminated: { id: string; ngrams: string[] }[] = [];
    const clean = unique.filter((d) => {
      if (!index) return true;
      const ov = overlapWith(d.record.content as string, index);
      if (ov.count === 0) return true;
      contaminated.push({ id: d.key, ngrams: ov.examples });
      return !config.contamination.enforce;
    });
    return { generated, gates, truncatedOnce, regenerated, dedup: dd, unique, clean, contaminated };
  }
  state = await screen();

  const tokensOf = (docs: CorpusDocument[]) => docs.reduce((a, d) => a + d.record.tokens, 0);
  const budgetDocs = (docs: CorpusDocument[]): BudgetDoc[] =>
    docs.map((d) => ({
      key: d.key,
      domain: d.idea.type.sub.domain.key,
      type: d.idea.type.key,
      rep: repOf(d.key),
      tokens: d.record.tokens,
    }));
  if (target !== undefined) {
    const live = new Set(strata.map((s) => s.type));
    const tokensByType = () => {
      const m = new Map<string, number>();
      for (const d of state.clean)
        m.set(d.idea.type.key, (m.get(d.idea.type.key) ?? 0) + d.record.tokens);
      return m;
    };
    while (tokensOf(state.clean) < target && waves < config.budget.max_waves && live.size) {
      const have = tokensOf(state.clean);
      const mean = state.clean.length
        ? have / state.clean.length
        : config.budget.doc_tokens_estimate;
      const extra = allocateExtra(budgetDocs(state.clean), strata, live, target, mean);
      const jobs: ItemJob<DocumentRecord>[] = [];
      const nextRep = new Map<string, number>();
      for (const r of docRows.keys()) {
        const idea = r.replace(/\.r\d+$/, "");
        nextRep.set(idea, Math.max(nextRep.get(idea) ?? 0, repOf(r) + 1));
      }
      for (const [type, n] of extra) {
        const pool = ideas.filter((i) => i.type.key === type);
        for (let k = 0; k < n && pool.length; k++) {
          const idea = pool[k % pool.length] as Idea;
          const rep = Math.max(docsPerIdea, nextRep.get(idea.key) ?? 0);
          nextRep.set(idea.key, rep + 1);
          jobs.push(documentJob(ctx, idea, rep, tokenizer, relevance));
        }
      }
      if (!jobs.length) break;
      waves++;
      log(
        `budget: ${have} of ${target} tokens; wave ${waves} writes ${jobs.length} more document(s)`,
      );
      const before = tokensByType();
      docRows = await stage("documents", jobs);
      state = await screen();
      // A stratum whose new documents all fell to gates or dedup gets no more.
      const after = tokensByType();
      for (const type of extra.keys())
        if ((after.get(type) ?? 0) <= (before.get(type) ?? 0)) live.delete(type);
    }
  }

  const before = tokensOf(state.clean);
  let trim: TrimResult | undefined;
  let kept = state.clean;
  if (target !== undefined) {
    trim = trimToBudget(
      budgetDocs(state.clean),
      strata,
      target,
      config.budget.tolerance,
      config.seed,
    );
    const keep = new Set(trim.kept.map((d) => d.key));
    kept = state.clean.filter((d) => keep.has(d.key));
  }
  const stages: Record<string, StageCount> = {};
  for (const { stage: s, status, n } of client.store.msm.counts(ctx.corpusId)) {
    stages[s] ??= { ok: 0, failed: 0, failedByKind: {} };
    if (status === "ok") (stages[s] as StageCount).ok = n;
    else (stages[s] as StageCount).failed = n;
  }
  for (const s of STAGES) {
    const rows =
      s === "documents"
        ? docRows
        : s === "judge"
          ? judgeRows
          : client.store.msm.stage(ctx.corpusId, s);
    for (const r of rows.values())
      if (r.status === "failed" && r.error) {
        const c = stages[s] ?? { ok: 0, failed: 0, failedByKind: {} };
        stages[s] = c;
        c.failedByKind[r.error.kind] = (c.failedByKind[r.error.kind] ?? 0) + 1;
        c.example ??= `${r.key}: ${r.error.message}`;
      }
  }
  const judged = judgeCfg
    ? [...judgeRows.values()].filter((r) => r.status === "ok").map((r) => r.value as JudgeRecord)
    : [];
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  const tokens = tokensOf(kept);
  return {
    ctx,
    documents: kept,
    tree: {
      domains: domains.length,
      subdomains: subs.length,
      assertions: [...assertions.values()].reduce((a, l) => a + l.length, 0),
      doc_types: types.length,
      ideas: ideas.length,
      unsuitable_types: unsuitableTypes(ideaRows),
    },
    stages,
    generated: state.generated,
    waves,
    gates: state.gates,
    truncation: {
      truncated_once: state.truncatedOnce,
      regenerated: state.regenerated,
      rate: state.generated ? state.truncatedOnce / state.generated : 0,
    },
    dedup: {
      exact: state.dedup.duplicates.filter((d) => d.kind === "exact").length,
      near: state.dedup.duplicates.filter((d) => d.kind === "near").length,
      duplicates: state.dedup.duplicates,
      params: state.dedup.params,
    },
    contamination: o.contamination
      ? {
          source: o.contamination.source,
          ngram: config.contamination.ngram,
          documents: state.contaminated.length,
          enforced: config.contamination.enforce,
          dropped: config.contamination.enforce ? state.contaminated.length : 0,
          examples: state.contaminated.slice(0, 20),
        }
      : null,
    budget: {
      target_tokens: target ?? null,
      tolerance: config.budget.tolerance,
      tokens_before_trim: before,
      trimmed_documents: trim?.removed.length ?? 0,
      trimmed_tokens: before - tokens,
      tokens,
      reached: target === undefined || before >= target,
      within_tolerance: trim?.withinTolerance ?? true,
    },
    judge: judgeCfg
      ? {
          model: stageSettings(config, "judge").model,
          judged: judged.length,
          mean_realism: mean(judged.map((j) => j.realism)),
          mean_faithfulness: mean(judged.map((j) => j.faithfulness)),
        }
      : null,
  };
}

export type { MsmConfig };
