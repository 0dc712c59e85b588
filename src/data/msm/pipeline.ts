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
import { getTokenizer, type TokenCounter } from "../../spec/tokens.js";
import type { ItemRow } from "../../store/index.js";
import { type ContaminationIndex, contaminationIndex } from "../contamination.js";
import type { Duplicate } from "../dedup/index.js";
import { type ItemJob, type StageAsk, stageRunner } from "../executor.js";
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
import { type GateName, type RelevanceContext, relevanceContext } from "./gates.js";
import { compareKeys, ideaKeyOf, repOf } from "./keys.js";
import {
  type TrainingPurposeSummary,
  trainingPurposeLine,
  trainingPurposeSummary,
} from "./purpose.js";
import { type CorpusDocument, type Screened, screenDocuments } from "./screen.js";
import {
  type Assertion,
  assertionJobs,
  type DomainNode,
  docTypeJobs,
  domainNodes,
  domainsJob,
  type Idea,
  ideaJobs,
  ideaNodes,
  type SubdomainNode,
  subdomainJobs,
  subdomainNodes,
  type TypeNode,
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
  /** Documents that say the spec trains the model; absent unless the knob is stated. */
  training_purpose?: TrainingPurposeSummary;
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
  const b = startBuild(o, ctx);
  const tree = await buildTree(b);
  const docs = new CorpusDocuments(b, tree);
  await docs.write(tree.ideas.flatMap((idea) => firstRepetitions(idea, b.config)));
  const waves =
    b.config.budget.target_tokens === undefined ? 0 : await documentWaves(b, tree, docs);
  countStage(b, "documents", docs.rows, docs.keys);
  if (b.config.gates.judge)
    countStage(
      b,
      "judge",
      docs.judged,
      docs.keys.map((k) => judgeKey(docs.judgeModel, k)).filter((k) => docs.judged.has(k)),
    );
  const record = corpusRecord(b, tree, docs, waves);
  const purpose = record.training_purpose;
  if (purpose && !purpose.as_asked)
    b.log(`training_purpose: ${trainingPurposeLine(purpose).replace(/^- Training purpose: /, "")}`);
  return record;
}

/** One build under way: its options, the stage runner of its run, and its stages' item counts. */
interface Build {
  o: BuildOptions;
  ctx: CorpusContext;
  config: MsmConfig;
  log: (message: string) => void;
  stage: StageAsk;
  counts: Record<string, StageCount>;
}

function startBuild(o: BuildOptions, ctx: CorpusContext): Build {
  const { config } = o;
  const log = o.log ?? (() => {});
  const stage = stageRunner({
    client: o.client,
    job: "msm",
    runId: ctx.corpusId,
    recipe: config,
    stages: STAGES.filter((s) => s !== "judge" || config.gates.judge),
    signal: o.signal,
    log,
    settings: (name) => stageSettings(config, name as StageName),
  });
  return { o, ctx, config, log, stage, counts: {} };
}

/** Counts a stage's items of the current tree (rows of other trees or budgets are not counted). */
function countStage(b: Build, name: StageName, rows: Map<string, ItemRow>, keys: string[]): void {
  b.counts[name] = countItems(keys.map((k) => rows.get(k)));
}

/** Asks one level of the tree and counts its items; the stage's rows, by key. */
async function askLevel<T>(b: Build, name: StageName, jobs: ItemJob<T>[]) {
  const rows = await b.stage(name, jobs);
  countStage(
    b,
    name,
    rows,
    jobs.map((j) => j.key),
  );
  return rows;
}

/** A level with no usable item at all ends the build: nothing below it can be made. */
function required<T>(b: Build, level: StageName, nodes: T[], why?: string): T[] {
  if (nodes.length) return nodes;
  const c = b.counts[level];
  throw new NoUsableAnswer(
    `MSM ${level}: no usable answer from ${stageSettings(b.config, level).model}${why ? ` (${why})` : c?.example ? ` (${c.example})` : ""}`,
    b.ctx.corpusId,
  );
}

/** The tree, domains to ideas, and the (domain, document type) strata its ideas fall in. */
interface Tree {
  domains: DomainNode[];
  subs: SubdomainNode[];
  assertions: Map<string, Assertion[]>;
  types: TypeNode[];
  ideas: Idea[];
  unsuitable: number;
  strata: { domain: string; type: string }[];
  ideaOf: (docKey: string) => Idea;
}

async function buildTree(b: Build): Promise<Tree> {
  const { ctx } = b;
  const domains = required(
    b,
    "domains",
    domainNodes(await askLevel(b, "domains", [domainsJob(ctx)])),
  );
  const subRows = await askLevel(b, "subdomains", subdomainJobs(ctx, domains));
  const subs = required(b, "subdomains", subdomainNodes(domains, subRows));
  const assertions = assertionsOf(subs, await askLevel(b, "assertions", assertionJobs(ctx, subs)));
  required(b, "assertions", [...assertions.keys()]);
  const typeRows = await askLevel(b, "doc_types", docTypeJobs(ctx, subs, assertions));
  const types = required(b, "doc_types", typeNodes(subs, assertions, typeRows));
  const ideaRows = await askLevel(b, "ideas", ideaJobs(ctx, types));
  const unsuitable = unsuitableTypes(ideaRows);
  const ideas = required(
    b,
    "ideas",
    ideaNodes(types, ideaRows),
    unsuitable === types.length ? `every document type was answered UNSUITABLE` : undefined,
  );
  const ideaByKey = new Map(ideas.map((i) => [i.key, i]));
  const strata = types
    .filter((t) => ideas.some((i) => i.type === t))
    .map((t) => ({ domain: t.sub.domain.key, type: t.key }));
  const ideaOf = (docKey: string) => ideaByKey.get(ideaKeyOf(docKey)) as Idea;
  return { domains, subs, assertions, types, ideas, unsuitable, strata, ideaOf };
}

/** Each subdomain's accepted assertions. */
function assertionsOf(subs: SubdomainNode[], rows: Map<string, ItemRow>) {
  const assertions = new Map<string, Assertion[]>();
  for (const s of subs) {
    const r = rows.get(`assertions:${s.key}`);
    if (r?.status === "ok") assertions.set(s.key, r.value as Assertion[]);
  }
  return assertions;
}

/** The first wave: docs_per_idea documents of each idea. */
const firstRepetitions = (idea: Idea, config: MsmConfig) =>
  Array.from({ length: config.counts.docs_per_idea }, (_, r) => `${idea.key}.r${r}`);

/**
 * The documents of one build, written in waves and screened (judge, gates, dedup, contamination)
 * after each: what passes decides what the next wave writes.
 */
class CorpusDocuments {
  /** Every document key of the tree so far, in the order written. */
  readonly keys: string[] = [];
  rows = new Map<string, ItemRow>();
  judged = new Map<string, ItemRow>();
  private screened: Screened | undefined;
  readonly judgeModel: string;
  readonly skipped: string[] = [];
  private readonly relevance: RelevanceContext | null;
  private readonly contamination: ContaminationIndex | undefined;
  private readonly tokenizer: TokenCounter;

  constructor(
    private readonly b: Build,
    private readonly tree: Tree,
  ) {
    const { config } = b;
    this.tokenizer = getTokenizer(config.tokenizer);
    this.judgeModel = stageSettings(config, "judge").model;
    this.relevance = this.relevanceGate();
    this.contamination = b.o.contamination
      ? contaminationIndex(b.o.contamination.texts, config.contamination.ngram)
      : undefined;
  }

  /** The relevance gate's context, or null where it is off or cannot apply (and why, in `skipped`). */
  private relevanceGate(): RelevanceContext | null {
    const { config, o, ctx } = this.b;
    if (!config.gates.relevance) return null;
    const english = /^(en|english)$/i.test(config.knobs.language);
    if (!english && config.knobs.attribution === "humans") {
      this.skipped.push(
        `off_topic: documents in ${config.knobs.language} about people can name neither the model nor the spec's (English) terms`,
      );
      return null;
    }
    return relevanceContext(o.spec, ctx.subject.mentions, config.gates.min_spec_terms);
  }

  /** What passed screening so far (after the first `write`). */
  get state(): Screened {
    return this.screened as Screened;
  }

  /** Writes the documents of `keys` (stored ones are read back) and screens the corpus again. */
  async write(keys: string[]): Promise<void> {
    this.keys.push(...keys);
    const job = (key: string) =>
      documentJob(this.b.ctx, this.tree.ideaOf(key), repOf(key), this.tokenizer);
    this.rows = await this.b.stage("documents", keys.map(job));
    this.screened = await this.screen();
  }

  private async screen(): Promise<Screened> {
    const { b, tree } = this;
    const rows = this.keys
      .map((k) => this.rows.get(k))
      .filter((r): r is ItemRow => r !== undefined);
    if (b.config.gates.judge) {
      const toJudge = rows.filter(
        (r) => r.status === "ok" && (r.value as DocumentRecord).gate === null,
      );
      this.judged = await b.stage(
        "judge",
        toJudge.map((r) =>
          judgeJob(b.ctx, r.key, tree.ideaOf(r.key), (r.value as DocumentRecord).content as string),
        ),
      );
    }
    return screenDocuments({
      config: b.config,
      rows,
      ideaOf: tree.ideaOf,
      judgeOf: (k) => this.judged.get(judgeKey(this.judgeModel, k)),
      relevance: this.relevance,
      contamination: this.contamination,
    });
  }
}

const tokensOf = (docs: CorpusDocument[]) => docs.reduce((a, d) => a + d.record.tokens, 0);

const budgetDocs = (docs: CorpusDocument[]): BudgetDoc[] =>
  docs.map((d) => ({
    key: d.key,
    domain: d.idea.type.sub.domain.key,
    type: d.idea.type.key,
    rep: repOf(d.key),
    tokens: d.record.tokens,
  }));

/** Stored waves of documents toward the token budget, one stratum per document type. */
function documentWaves(b: Build, tree: Tree, docs: CorpusDocuments): Promise<number> {
  const { config } = b;
  const target = config.budget.target_tokens as number;
  const screening = hashValue({
    gates: config.gates,
    dedup: config.dedup,
    contamination: config.contamination.enforce ? config.contamination : null,
  }).slice(0, 8);
  return runWaves<WavePlan>({
    store: b.o.client.store,
    runId: b.ctx.corpusId,
    strata: tree.strata.map((s) => s.type),
    first: 1,
    key: (n) => waveKey(target, screening, n),
    // max_waves bounds new plans only: a stored plan is always replayed.
    plan: (n, live) =>
      tokensOf(docs.state.clean) >= target || n > config.budget.max_waves
        ? undefined
        : nextWave(b, tree, docs, live),
    planned: (plan, n) =>
      b.log(
        `budget: ${tokensOf(docs.state.clean)} of ${target} tokens; wave ${n} writes ${plan.docs.length} more document(s)`,
      ),
    strataOf: (plan) => plan.types,
    run: (plan) => docs.write(plan.docs),
    measure: () => {
      const m = new Map<string, number>();
      for (const d of docs.state.clean)
        m.set(d.idea.type.key, (m.get(d.idea.type.key) ?? 0) + d.record.tokens);
      return m;
    },
  });
}

/** The next wave's documents (see `planWave`), or undefined when it has none. */
function nextWave(
  b: Build,
  tree: Tree,
  docs: CorpusDocuments,
  live: ReadonlySet<string>,
): WavePlan | undefined {
  const { clean } = docs.state;
  const plan = planWave({
    target: b.config.budget.target_tokens as number,
    kept: budgetDocs(clean),
    strata: tree.strata,
    live,
    ideas: tree.ideas,
    existing: docs.keys,
    docsPerIdea: b.config.counts.docs_per_idea,
    meanTokens: clean.length ? tokensOf(clean) / clean.length : b.config.budget.doc_tokens_estimate,
  });
  return plan.docs.length ? plan : undefined;
}

/** The screened documents trimmed, stratified, to the budget (all of them without one). */
function trimmed(b: Build, tree: Tree, clean: CorpusDocument[]) {
  const target = b.config.budget.target_tokens;
  if (target === undefined) return { kept: clean, trim: undefined };
  const trim = trimToBudget(
    budgetDocs(clean),
    tree.strata,
    target,
    b.config.budget.tolerance,
    b.config.seed,
  );
  const keys = new Set(trim.kept.map((d) => d.key));
  return { kept: clean.filter((d) => keys.has(d.key)), trim };
}

function corpusRecord(b: Build, tree: Tree, docs: CorpusDocuments, waves: number): CorpusBuild {
  const { state } = docs;
  const before = tokensOf(state.clean);
  const { kept, trim } = trimmed(b, tree, state.clean);
  const inCorpus = new Set(kept.map((d) => d.key));
  const purpose = trainingPurposeSummary(b.config, b.ctx.specName, kept);
  return {
    ctx: b.ctx,
    documents: kept.sort((x, y) => compareKeys(x.key, y.key)),
    tree: treeSummary(tree),
    stages: Object.fromEntries(
      STAGES.filter((s) => b.counts[s]).map((s) => [s, b.counts[s] as StageCount]),
    ),
    generated: state.generated,
    waves,
    gates: state.gates,
    skipped_gates: docs.skipped,
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
    contamination: contaminationSummary(b, state, inCorpus),
    budget: budgetSummary(b.config, before, tokensOf(kept), trim),
    judge: judgeSummary(b.config, docs),
    ...(purpose ? { training_purpose: purpose } : {}),
  };
}

function treeSummary(tree: Tree): CorpusBuild["tree"] {
  return {
    domains: tree.domains.length,
    subdomains: tree.subs.length,
    assertions: [...tree.assertions.values()].reduce((a, l) => a + l.length, 0),
    doc_types: tree.types.length,
    ideas: tree.ideas.length,
    unsuitable_types: tree.unsuitable,
  };
}

function contaminationSummary(
  b: Build,
  state: Screened,
  inCorpus: Set<string>,
): CorpusBuild["contamination"] {
  if (!b.o.contamination) return null;
  return {
    source: b.o.contamination.source,
    ngram: b.config.contamination.ngram,
    documents: state.contaminated.length,
    in_corpus: state.contaminated.filter((c) => inCorpus.has(c.id)).length,
    enforced: b.config.contamination.enforce,
    examples: state.contaminated.slice(0, 20),
  };
}

/** Tokens before the trim and after it, against the target. */
function budgetSummary(
  config: MsmConfig,
  before: number,
  tokens: number,
  trim: TrimResult | undefined,
): CorpusBuild["budget"] {
  const target = config.budget.target_tokens;
  const lower = target === undefined ? 0 : Math.ceil(target * (1 - config.budget.tolerance));
  return {
    target_tokens: target ?? null,
    tolerance: config.budget.tolerance,
    tokens_before_trim: before,
    trimmed_documents: trim?.removed.length ?? 0,
    trimmed_tokens: before - tokens,
    tokens,
    reached: target === undefined || before >= lower,
    within_tolerance: trim?.withinTolerance ?? true,
  };
}

/** The judge's mean scores over every judged document of the tree (kept or not). */
function judgeSummary(config: MsmConfig, docs: CorpusDocuments): CorpusBuild["judge"] {
  if (!config.gates.judge) return null;
  const judged = docs.keys
    .map((k) => docs.judged.get(judgeKey(docs.judgeModel, k)))
    .flatMap((r) => (r?.status === "ok" ? [r.value as JudgeRecord] : []));
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, x) => a + x, 0) / xs.length : null);
  return {
    model: docs.judgeModel,
    judged: judged.length,
    mean_realism: mean(judged.map((j) => j.realism)),
    mean_faithfulness: mean(judged.map((j) => j.faithfulness)),
  };
}
