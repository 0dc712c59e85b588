/**
 * Builds an MSM corpus: the tree (domains → … → ideas), documents (in stored waves until the
 * token budget is met), screening (gates, judge, dedup, contamination) and stratified trimming.
 * Every model answer and every wave plan is an item in the store, so a killed build resumes where
 * it stopped and writes exactly what an uninterrupted one writes; what is derived from the items
 * (screening, trimming) is recomputed, deterministically.
 */

import { hashValue } from "../../core/hash.js";
import type { LlmClient } from "../../llm/client.js";
import type { Spec } from "../../spec/model.js";
import { getTokenizer } from "../../spec/tokens.js";
import type { ItemRow } from "../../store/index.js";
import { contaminationIndex } from "../contamination.js";
import type { Duplicate } from "../dedup/index.js";
import { countItems, type StageCount } from "../item-counts.js";
import { NoUsableAnswer } from "../item-failures.js";
import { runWaves } from "../waves.js";
import { type BudgetDoc, type TrimResult, trimToBudget } from "./budget.js";
import { type MsmConfig, STAGES, type StageName, stageSettings } from "./config.js";
import { type CorpusContext, corpusContext } from "./context.js";
import {
  type DocumentRecord,
  documentJob,
  type JudgeRecord,
  judgeJob,
  judgeKey,
} from "./documents.js";
import { stageRunner } from "./executor.js";
import { type GateName, relevanceContext } from "./gates.js";
import { compareKeys, ideaKeyOf, repOf } from "./keys.js";
import { type CorpusDocument, type Screened, screenDocuments } from "./screen.js";
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
import { planWave, type WavePlan, waveKey } from "./waves.js";

export type { CorpusDocument } from "./screen.js";

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

export type { StageCount } from "../item-counts.js";

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
  /** Items of the current tree per stage (rows of other trees or budgets are not counted). */
  stages: Record<string, StageCount>;
  generated: number;
  waves: number;
  gates: Record<GateName, number>;
  /** Gates that could not apply, and why (e.g. relevance for non-English documents about people). */
  skipped_gates: string[];
  truncation: { truncated_once: number; regenerated: number; rate: number };
  dedup: { exact: number; near: number; duplicates: Duplicate[]; params: unknown };
  contamination: {
    source: string;
    ngram: number;
    /** Screened documents sharing an n-gram with the evaluation texts. */
    documents: number;
    /** Of those, in the final corpus (0 when enforced). */
    in_corpus: number;
    enforced: boolean;
    examples: { id: string; ngrams: string[] }[];
  } | null;
  budget: {
    target_tokens: number | null;
    tolerance: number;
    tokens_before_trim: number;
    trimmed_documents: number;
    trimmed_tokens: number;
    tokens: number;
    /** The target was met, at least to within its tolerance. */
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

export async function buildCorpus(o: BuildOptions): Promise<CorpusBuild> {
  const { config, client } = o;
  const store = client.store;
  const ctx = corpusContext(o.spec, o.specHash, o.specName, config);
  store.runs.ensure({
    id: ctx.corpusId,
    kind: "msm",
    name: config.name ?? o.specName,
    config: { spec: o.specHash, config },
  });
  return store.runs.track(ctx.corpusId, o.signal, () => build_(o, ctx));
}

async function build_(o: BuildOptions, ctx: CorpusContext): Promise<CorpusBuild> {
  const { config, client } = o;
  const log = o.log ?? (() => {});
  const store = client.store;
  const stage = stageRunner({
    client,
    runId: ctx.corpusId,
    attempts: config.attempts,
    concurrency: config.concurrency,
    batch: config.batch,
    signal: o.signal,
    log,
    settings: (name) => stageSettings(config, name as StageName),
  });
  if (config.batch) {
    // Every stage's model must have a batch API: found out now, not after hours of documents.
    const used = STAGES.filter((s) => s !== "judge" || config.gates.judge);
    for (const model of new Set(used.map((s) => stageSettings(config, s).model)))
      client.batchRunner(model);
  }
  const counts: Record<string, StageCount> = {};
  const keep = (name: StageName, rows: Map<string, ItemRow>, keys: string[]) =>
    (counts[name] = countItems(keys.map((k) => rows.get(k))));

  // The tree. A level with no usable item at all ends the build: nothing below it can be made.
  const required = <T>(level: StageName, nodes: T[], why?: string): T[] => {
    if (nodes.length) return nodes;
    const c = counts[level];
    throw new NoUsableAnswer(
      `MSM ${level}: no usable answer from ${stageSettings(config, level).model}${why ? ` (${why})` : c?.example ? ` (${c.example})` : ""}`,
      ctx.corpusId,
    );
  };
  const domainJobs = [domainsJob(ctx)];
  const domainRows = await stage("domains", domainJobs);
  keep(
    "domains",
    domainRows,
    domainJobs.map((j) => j.key),
  );
  const domains = required("domains", domainNodes(domainRows));

  const subJobs = subdomainJobs(ctx, domains);
  const subRows = await stage("subdomains", subJobs);
  keep(
    "subdomains",
    subRows,
    subJobs.map((j) => j.key),
  );
  const subs = required("subdomains", subdomainNodes(domains, subRows));

  const assertionJobList = assertionJobs(ctx, subs);
  const assertionRows = await stage("assertions", assertionJobList);
  keep(
    "assertions",
    assertionRows,
    assertionJobList.map((j) => j.key),
  );
  const assertions = new Map<string, Assertion[]>();
  for (const s of subs) {
    const r = assertionRows.get(`assertions:${s.key}`);
    if (r?.status === "ok") assertions.set(s.key, r.value as Assertion[]);
  }
  required("assertions", [...assertions.keys()]);

  const typeJobs = docTypeJobs(ctx, subs, assertions);
  const typeRows = await stage("doc_types", typeJobs);
  keep(
    "doc_types",
    typeRows,
    typeJobs.map((j) => j.key),
  );
  const types = required("doc_types", typeNodes(subs, assertions, typeRows));

  const ideaJobList = ideaJobs(ctx, types);
  const ideaRows = await stage("ideas", ideaJobList);
  keep(
    "ideas",
    ideaRows,
    ideaJobList.map((j) => j.key),
  );
  const unsuitable = unsuitableTypes(ideaRows);
  const ideas = required(
    "ideas",
    ideaNodes(types, ideaRows),
    unsuitable === types.length ? `every document type was answered UNSUITABLE` : undefined,
  );
  const ideaByKey = new Map(ideas.map((i) => [i.key, i]));
  const ideaOf = (docKey: string) => ideaByKey.get(ideaKeyOf(docKey)) as Idea;
  const strata = types
    .filter((t) => ideas.some((i) => i.type === t))
    .map((t) => ({ domain: t.sub.domain.key, type: t.key }));

  // Documents: the first wave (docs_per_idea per idea), then stored waves toward the budget.
  const tokenizer = getTokenizer(config.tokenizer);
  const target = config.budget.target_tokens;
  const docsPerIdea = config.counts.docs_per_idea;
  const docKeys: string[] = ideas.flatMap((idea) =>
    Array.from({ length: docsPerIdea }, (_, r) => `${idea.key}.r${r}`),
  );
  const docJob = (key: string) => documentJob(ctx, ideaOf(key), repOf(key), tokenizer);
  let docRows = await stage("documents", docKeys.map(docJob));

  const judgeCfg = config.gates.judge;
  const judgeModel = stageSettings(config, "judge").model;
  let judgeRows = new Map<string, ItemRow>();
  const skipped: string[] = [];
  const english = /^(en|english)$/i.test(config.knobs.language);
  const noMentions = config.knobs.attribution === "humans";
  let relevance = config.gates.relevance
    ? relevanceContext(o.spec, ctx.subject.mentions, config.gates.min_spec_terms)
    : null;
  if (relevance && !english && noMentions) {
    relevance = null;
    skipped.push(
      `off_topic: documents in ${config.knobs.language} about people can name neither the model nor the spec's (English) terms`,
    );
  }
  const index = o.contamination
    ? contaminationIndex(o.contamination.texts, config.contamination.ngram)
    : undefined;

  const screen = async (): Promise<Screened> => {
    const rows = docKeys.map((k) => docRows.get(k)).filter((r): r is ItemRow => r !== undefined);
    if (judgeCfg) {
      const toJudge = rows.filter(
        (r) => r.status === "ok" && (r.value as DocumentRecord).gate === null,
      );
      judgeRows = await stage(
        "judge",
        toJudge.map((r) =>
          judgeJob(ctx, r.key, ideaOf(r.key), (r.value as DocumentRecord).content as string),
        ),
      );
    }
    return screenDocuments({
      config,
      rows,
      ideaOf,
      judgeOf: (k) => judgeRows.get(judgeKey(judgeModel, k)),
      relevance,
      contamination: index,
    });
  };
  let state = await screen();

  const tokensOf = (docs: CorpusDocument[]) => docs.reduce((a, d) => a + d.record.tokens, 0);
  const budgetDocs = (docs: CorpusDocument[]): BudgetDoc[] =>
    docs.map((d) => ({
      key: d.key,
      domain: d.idea.type.sub.domain.key,
      type: d.idea.type.key,
      rep: repOf(d.key),
      tokens: d.record.tokens,
    }));
  let waves = 0;
  if (target !== undefined) {
    const screening = hashValue({
      gates: config.gates,
      dedup: config.dedup,
      contamination: config.contamination.enforce ? config.contamination : null,
    }).slice(0, 8);
    waves = await runWaves<WavePlan>({
      store,
      runId: ctx.corpusId,
      strata: strata.map((s) => s.type),
      first: 1,
      key: (n) => waveKey(target, screening, n),
      plan: (n, live) => {
        // max_waves bounds new plans only: a stored plan is always replayed.
        if (tokensOf(state.clean) >= target || n > config.budget.max_waves) return undefined;
        const plan = planWave({
          target,
          kept: budgetDocs(state.clean),
          strata,
          live,
          ideas,
          existing: docKeys,
          docsPerIdea,
          meanTokens: state.clean.length
            ? tokensOf(state.clean) / state.clean.length
            : config.budget.doc_tokens_estimate,
        });
        return plan.docs.length ? plan : undefined;
      },
      planned: (plan, n) =>
        log(
          `budget: ${tokensOf(state.clean)} of ${target} tokens; wave ${n} writes ${plan.docs.length} more document(s)`,
        ),
      strataOf: (plan) => plan.types,
      run: async (plan) => {
        docKeys.push(...plan.docs);
        docRows = await stage("documents", plan.docs.map(docJob));
        state = await screen();
      },
      measure: () => {
        const m = new Map<string, number>();
        for (const d of state.clean)
          m.set(d.idea.type.key, (m.get(d.idea.type.key) ?? 0) + d.record.tokens);
        return m;
      },
    });
  }
  keep("documents", docRows, docKeys);
  if (judgeCfg)
    keep(
      "judge",
      judgeRows,
      docKeys.map((k) => judgeKey(judgeModel, k)).filter((k) => judgeRows.has(k)),
    );

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
    const keys = new Set(trim.kept.map((d) => d.key));
    kept = state.clean.filter((d) => keys.has(d.key));
  }
  const inCorpus = new Set(kept.map((d) => d.key));
  const judged = docKeys
    .map((k) => judgeRows.get(judgeKey(judgeModel, k)))
    .flatMap((r) => (r?.status === "ok" ? [r.value as JudgeRecord] : []));
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  const tokens = tokensOf(kept);
  const lower = target === undefined ? 0 : Math.ceil(target * (1 - config.budget.tolerance));
  return {
    ctx,
    documents: kept.sort((a, b) => compareKeys(a.key, b.key)),
    tree: {
      domains: domains.length,
      subdomains: subs.length,
      assertions: [...assertions.values()].reduce((a, l) => a + l.length, 0),
      doc_types: types.length,
      ideas: ideas.length,
      unsuitable_types: unsuitable,
    },
    stages: Object.fromEntries(
      STAGES.filter((s) => counts[s]).map((s) => [s, counts[s] as StageCount]),
    ),
    generated: state.generated,
    waves,
    gates: state.gates,
    skipped_gates: skipped,
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
          in_corpus: state.contaminated.filter((c) => inCorpus.has(c.id)).length,
          enforced: config.contamination.enforce,
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
      reached: target === undefined || before >= lower,
      within_tolerance: trim?.withinTolerance ?? true,
    },
    judge: judgeCfg
      ? {
          model: judgeModel,
          judged: judged.length,
          mean_realism: mean(judged.map((j) => j.realism)),
          mean_faithfulness: mean(judged.map((j) => j.faithfulness)),
        }
      : null,
  };
}
