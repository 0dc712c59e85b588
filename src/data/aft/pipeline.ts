/**
 * Builds an AFT chat set: domains → user prompts per (domain, category) in waves → prompt dedup →
 * teacher responses with the spec in context → compliance judge → backfill until every stratum
 * has its share of the target → an exact, stratified selection. Every answer is a stored item, so
 * a killed build resumes; each wave's plan is a pure function of the waves before it, so a
 * resumed build asks exactly what an uninterrupted one asks.
 */

import type { LlmClient } from "../../llm/client.js";
import type { Spec } from "../../spec/model.js";
import type { ItemRow } from "../../store/index.js";
import { type ChatTemplate, getChatTemplate } from "../chat-template.js";
import { type ContaminationIndex, contaminationIndex, overlapWith } from "../contamination.js";
import { findDuplicates } from "../dedup/index.js";
import { type StageAsk, stageRunner } from "../executor.js";
import { countItems, type StageCount } from "../item-counts.js";
import { NoUsableAnswer } from "../item-failures.js";
import { trimToBudget } from "../msm/budget.js";
import { compareKeys } from "../msm/keys.js";
import { runWaves } from "../waves.js";
import { MAX_CALLS_PER_STRATUM, planBackfill, type StratumState } from "./backfill.js";
import {
  AFT_STAGES,
  type AftCategory,
  type AftConfig,
  type AftStage,
  aftStageSettings,
  categoryShares,
} from "./config.js";
import { type AftExample, chatMessages } from "./example.js";
import {
  type AftContext,
  aftContext,
  aftJudgeKey,
  type Domain,
  domainsJob,
  type JudgeVerdict,
  judgeJob,
  promptsJob,
  responseJob,
  type TeacherResponse,
  type UserPrompt,
} from "./stages.js";

export interface AftBuildOptions {
  spec: Spec;
  specHash: string;
  specName: string;
  config: AftConfig;
  client: LlmClient;
  contamination?: { texts: string[]; source: string };
  signal?: AbortSignal;
  log?: (message: string) => void;
}

export interface AftStageCount extends StageCount {
  /** Responses recorded but unusable (refused, cut off); see `gates`. */
  gated?: number;
}

export interface AftBuild {
  ctx: AftContext;
  examples: AftExample[];
  stages: Record<string, AftStageCount>;
  domains: number;
  waves: number;
  prompts: { written: number; exact_duplicates: number; near_duplicates: number; unique: number };
  /** Why responses did not become examples. */
  gates: {
    refused: number;
    truncated: number;
    judge_rejected: number;
    self_continuation: number;
    judge_failed: number;
  };
  /** Responses that passed the judge, before selection. */
  passing: number;
  selection: {
    target_examples: number | null;
    target_tokens: number | null;
    selected: number;
    tokens_reasoning: number;
    tokens_plain: number;
    reached: boolean;
  };
  contamination: {
    source: string;
    ngram: number;
    examples: number;
    enforced: boolean;
    ids: string[];
  } | null;
}

/** One prompt-writing call of a wave. */
interface WaveCall {
  key: string;
  domain: string;
  category: AftCategory;
  count: number;
}

interface WavePlan {
  calls: WaveCall[];
}

export async function buildAftSet(o: AftBuildOptions): Promise<AftBuild> {
  const ctx = aftContext(o.spec, o.specHash, o.specName, o.config);
  const store = o.client.store;
  store.runs.ensure({
    id: ctx.setId,
    kind: "aft",
    name: o.config.name ?? o.specName,
    config: { spec: o.specHash, config: o.config },
  });
  return store.runs.track(ctx.setId, o.signal, () => build(o, ctx));
}

async function build(o: AftBuildOptions, ctx: AftContext): Promise<AftBuild> {
  const b = startBuild(o, ctx);
  const domains = await askDomains(b);
  const set = new ChatSetExamples(b, domains.list);
  const waves = await promptWaves(b, set);
  return chatSetRecord(b, set, waves, domains.row);
}

/** One build under way: its options and the stage runner of its run. */
interface Build {
  o: AftBuildOptions;
  ctx: AftContext;
  config: AftConfig;
  log: (message: string) => void;
  stage: StageAsk;
  judgeModel: string;
}

function startBuild(o: AftBuildOptions, ctx: AftContext): Build {
  const { config } = o;
  const log = o.log ?? (() => {});
  const stage = stageRunner({
    client: o.client,
    job: "aft",
    runId: ctx.setId,
    recipe: config,
    stages: AFT_STAGES,
    signal: o.signal,
    log,
    settings: (name) => aftStageSettings(config, name as AftStage),
  });
  return { o, ctx, config, log, stage, judgeModel: aftStageSettings(config, "judge").model };
}

/** The set's domains, and their item; without a usable answer nothing can be made. */
async function askDomains(b: Build): Promise<{ list: Domain[]; row: ItemRow }> {
  const rows = await b.stage("domains", [domainsJob(b.ctx)]);
  const row = rows.get("domains");
  if (row?.status !== "ok")
    throw new NoUsableAnswer(
      `AFT domains: no usable answer from ${aftStageSettings(b.config, "domains").model}${row?.error ? ` (${row.error.kind}: ${row.error.message})` : ""}`,
      b.ctx.setId,
    );
  const list = (row.value as { name: string; description: string }[]).map((d, i) => ({
    ...d,
    key: `d${i + 1}`,
  }));
  return { list, row };
}

/** A (domain, category) stratum and its share of the target. */
interface Stratum {
  domain: Domain;
  category: AftCategory;
  share: number;
}

const stratumKey = (d: Domain, c: AftCategory) => `${d.key}.${c}`;

/**
 * The prompts and examples of one set so far: prompts are written in waves, deduplicated against
 * the kept ones, answered by the teacher and judged; the examples are recounted after each wave.
 */
class ChatSetExamples {
  readonly strata: Stratum[];
  readonly domains: Domain[];
  /** Every prompt-writing call so far, and the prompts kept after dedup. */
  readonly calls: WaveCall[] = [];
  readonly kept: UserPrompt[] = [];
  private readonly keptIds = new Set<string>();
  /** Prompts written per stratum, before dedup. */
  readonly written = new Map<string, number>();
  readonly duplicates = { exact: 0, near: 0 };
  promptRows = new Map<string, ItemRow>();
  responseRows = new Map<string, ItemRow>();
  judgeRows = new Map<string, ItemRow>();
  examples: AftExample[] = [];
  contaminated: string[] = [];
  gates: AftBuild["gates"] = noGates();
  private readonly domainByKey: Map<string, Domain>;
  private readonly template: ChatTemplate;
  private readonly index: ContaminationIndex | undefined;

  constructor(
    private readonly b: Build,
    domains: Domain[],
  ) {
    const shares = categoryShares(b.config);
    this.domains = domains;
    this.domainByKey = new Map(domains.map((d) => [d.key, d]));
    this.strata = domains.flatMap((d) =>
      shares.map((s) => ({ domain: d, category: s.category, share: s.share / domains.length })),
    );
    this.template = getChatTemplate(b.config.chat_template);
    this.index = b.o.contamination
      ? contaminationIndex(b.o.contamination.texts, b.config.contamination.ngram)
      : undefined;
  }

  /** Writes one wave's prompts, keeps the new ones, and answers and judges them. */
  async write(calls: WaveCall[]): Promise<void> {
    const earlier = [...this.kept];
    this.calls.push(...calls);
    this.promptRows = await this.b.stage(
      "prompts",
      calls.map((c) => this.promptsJob(c, earlier)),
    );
    await this.admit(calls.flatMap((c) => this.promptsOf(c)));
    await this.advance();
  }

  private promptsJob(c: WaveCall, earlier: UserPrompt[]) {
    const domain = this.domain(c.domain);
    // Earlier prompts of the stratum are shown so the new ones differ from them.
    const avoid = earlier
      .filter((p) => p.domain === domain && p.category === c.category)
      .slice(-20)
      .map((p) => p.user.replace(/\s+/g, " ").slice(0, 120));
    return promptsJob(this.b.ctx, domain, c.category, c.key, c.count, avoid);
  }

  private domain(key: string): Domain {
    return this.domainByKey.get(key) as Domain;
  }

  private promptsOf(c: WaveCall): UserPrompt[] {
    const r = this.promptRows.get(`prompts:${c.key}`);
    if (r?.status !== "ok") return [];
    const domain = this.domain(c.domain);
    return (r.value as { system: string; user: string }[]).map((p, i) => ({
      id: `${c.key}.p${i + 1}`,
      domain,
      category: c.category,
      system: p.system,
      user: p.user,
    }));
  }

  /** New prompts are deduplicated against the kept ones, which stay kept. */
  private async admit(fresh: UserPrompt[]): Promise<void> {
    for (const p of fresh) {
      const k = stratumKey(p.domain, p.category);
      this.written.set(k, (this.written.get(k) ?? 0) + 1);
    }
    const { config } = this.b;
    const dd = await findDuplicates(
      [...this.kept, ...fresh].map((p) => ({ id: p.id, text: p.user })),
      {
        near: {
          threshold: config.dedup.threshold,
          shingle: config.dedup.shingle,
          seed: config.seed,
        },
      },
    );
    const dup = new Map(
      dd.duplicates.filter((d) => !this.keptIds.has(d.id)).map((d) => [d.id, d.kind]),
    );
    for (const kind of dup.values()) this.duplicates[kind]++;
    for (const p of fresh)
      if (!dup.has(p.id)) {
        this.kept.push(p);
        this.keptIds.add(p.id);
      }
  }

  /** Answers and judges what the kept prompts need, and recounts the passing examples. */
  private async advance(): Promise<void> {
    const { b } = this;
    this.responseRows = await b.stage(
      "responses",
      this.kept.map((p) => responseJob(b.ctx, p)),
    );
    const answered = this.kept.flatMap((p) => {
      const r = this.responseRows.get(`response:${p.id}`);
      return r?.status === "ok" ? [{ p, r: r.value as TeacherResponse }] : [];
    });
    this.judgeRows = await b.stage(
      "judge",
      answered.filter(({ r }) => r.gate === null).map(({ p, r }) => judgeJob(b.ctx, p, r)),
    );
    this.recount(answered);
    this.contaminated = this.index ? this.quoting(this.index) : [];
  }

  /** The examples that passed the gates and the judge, and why the others did not. */
  private recount(answered: { p: UserPrompt; r: TeacherResponse }[]): void {
    this.gates = noGates();
    this.examples = [];
    for (const { p, r } of answered) {
      if (r.gate) {
        this.gates[r.gate]++;
        continue;
      }
      const j = this.judgeRows.get(aftJudgeKey(this.b.judgeModel, p.id));
      if (j?.status !== "ok") {
        this.gates.judge_failed++;
        continue;
      }
      const v = j.value as JudgeVerdict;
      if (v.self_continuation) this.gates.self_continuation++;
      else if (!v.pass) this.gates.judge_rejected++;
      if (!v.pass || v.self_continuation) continue;
      const reasoning = chatMessages(p, r, this.template, true);
      const plain = chatMessages(p, r, this.template, false);
      this.examples.push({
        id: p.id,
        prompt: p,
        response: r,
        judge: v,
        tokens: { reasoning: this.template.count(reasoning), plain: this.template.count(plain) },
      });
    }
  }

  /** The examples that share an n-gram with the evaluation texts. */
  private quoting(index: ContaminationIndex): string[] {
    return this.examples
      .filter(
        (e) =>
          overlapWith(
            `${e.prompt.system}\n${e.prompt.user}\n${e.response.reasoning}\n${e.response.reply}`,
            index,
          ).count > 0,
      )
      .map((e) => e.id);
  }

  /** The examples a selection may take: contaminated ones are out where that is enforced. */
  eligible(): AftExample[] {
    if (!this.b.config.contamination.enforce) return this.examples;
    const out = new Set(this.contaminated);
    return this.examples.filter((e) => !out.has(e.id));
  }

  /** A stratum's eligible examples and their tokens (of the with-reasoning set). */
  count(k: string): { n: number; tokens: number } {
    const ex = this.eligible().filter((e) => stratumKey(e.prompt.domain, e.prompt.category) === k);
    return { n: ex.length, tokens: ex.reduce((a, e) => a + e.tokens.reasoning, 0) };
  }

  /** Kept prompts the teacher answered, per stratum. */
  answered(): Map<string, number> {
    const answered = new Map<string, number>();
    for (const p of this.kept)
      if (this.responseRows.get(`response:${p.id}`)?.status === "ok")
        answered.set(
          stratumKey(p.domain, p.category),
          (answered.get(stratumKey(p.domain, p.category)) ?? 0) + 1,
        );
    return answered;
  }
}

const noGates = (): AftBuild["gates"] => ({
  refused: 0,
  truncated: 0,
  judge_rejected: 0,
  self_continuation: 0,
  judge_failed: 0,
});

/**
 * Waves are planned for one target and one notion of eligible: a set enforcing contamination
 * has its own waves (and prompts), so replaying them never changes a set that does not.
 */
function targetTag(config: AftConfig): string {
  const t = config.budget.target_tokens;
  return `${t === undefined ? `n${config.budget.examples}` : `t${t}`}${config.contamination.enforce ? `.c${config.contamination.ngram}` : ""}`;
}

/** Stored waves of prompts until every stratum has its share of the target (wave 0 included). */
function promptWaves(b: Build, set: ChatSetExamples): Promise<number> {
  const tag = targetTag(b.config);
  return runWaves<WavePlan>({
    store: b.o.client.store,
    runId: b.ctx.setId,
    strata: set.strata.map((s) => stratumKey(s.domain, s.category)),
    first: 0,
    last: b.config.budget.max_waves,
    key: (w) => `wave:${tag}:${w}`,
    plan: (w, live) => {
      const calls = backfillCalls(b, set, tag, w, live);
      return calls.length ? { calls } : undefined;
    },
    planned: (plan, w) => {
      if (w > 0)
        b.log(
          `backfill: wave ${w} asks for ${plan.calls.reduce((a, c) => a + c.count, 0)} more prompts`,
        );
    },
    strataOf: (plan) => plan.calls.map((c) => `${c.domain}.${c.category}`),
    run: (plan) => set.write(plan.calls),
    measure: () =>
      new Map(
        set.strata.map((s) => [
          stratumKey(s.domain, s.category),
          set.count(stratumKey(s.domain, s.category)).n,
        ]),
      ),
  });
}

/** Wave `w`'s prompt-writing calls: each live stratum's shortfall (see `planBackfill`), capped. */
function backfillCalls(
  b: Build,
  set: ChatSetExamples,
  tag: string,
  w: number,
  live: ReadonlySet<string>,
): WaveCall[] {
  const { config } = b;
  const targetTokens = config.budget.target_tokens;
  const needs = planBackfill(
    stratumStates(set, live),
    targetTokens === undefined ? { examples: config.budget.examples } : { tokens: targetTokens },
  );
  const strata = new Map(set.strata.map((s) => [stratumKey(s.domain, s.category), s]));
  const per = config.counts.prompts;
  const calls: WaveCall[] = [];
  for (const need of needs) {
    const s = strata.get(need.key) as Stratum;
    const n = Math.min(need.prompts, per * MAX_CALLS_PER_STRATUM);
    for (let k = 0; k * per < n; k++)
      calls.push({
        // The target is in the key: a set built for another size asks for other counts, and
        // must not be answered with this one's stored prompts.
        key: `${need.key}.${tag}.w${w}.k${k}`,
        domain: s.domain.key,
        category: s.category,
        count: Math.min(per, n - k * per),
      });
  }
  return calls;
}

/** What each stratum has so far, as the backfill plan reads it. */
function stratumStates(set: ChatSetExamples, live: ReadonlySet<string>): StratumState[] {
  const answered = set.answered();
  return set.strata.map((s) => {
    const k = stratumKey(s.domain, s.category);
    const c = set.count(k);
    return {
      key: k,
      share: s.share,
      live: live.has(k),
      examples: c.n,
      tokens: c.tokens,
      written: set.written.get(k) ?? 0,
      kept: set.kept.filter((p) => stratumKey(p.domain, p.category) === k).length,
      answered: answered.get(k) ?? 0,
    };
  });
}

/** The exact, stratified selection: by count (each example weighs 1) or by tokens. */
function selection(b: Build, set: ChatSetExamples) {
  const { config } = b;
  const pool = set.eligible();
  const byTokens = config.budget.target_tokens !== undefined;
  const trim = trimToBudget(
    pool.map((e) => ({
      key: e.id,
      domain: e.prompt.domain.key,
      type: stratumKey(e.prompt.domain, e.prompt.category),
      rep: 0,
      tokens: byTokens ? e.tokens.reasoning : 1,
    })),
    set.strata.map((s) => ({ domain: s.domain.key, type: stratumKey(s.domain, s.category) })),
    config.budget.target_tokens ?? config.budget.examples,
    byTokens ? config.budget.tolerance : 0,
    config.seed,
    new Map(set.strata.map((s) => [stratumKey(s.domain, s.category), s.share])),
  );
  const keep = new Set(trim.kept.map((d) => d.key));
  const selected = pool.filter((e) => keep.has(e.id)).sort((x, y) => compareKeys(x.id, y.id));
  return { selected, reached: trim.withinTolerance };
}

function chatSetRecord(
  b: Build,
  set: ChatSetExamples,
  waves: number,
  domainRow: ItemRow,
): AftBuild {
  const { config } = b;
  const { selected, reached } = selection(b, set);
  return {
    ctx: b.ctx,
    examples: selected,
    stages: stageCounts(b, set, domainRow),
    domains: set.domains.length,
    waves,
    prompts: {
      written: [...set.written.values()].reduce((a, n) => a + n, 0),
      exact_duplicates: set.duplicates.exact,
      near_duplicates: set.duplicates.near,
      unique: set.kept.length,
    },
    gates: set.gates,
    passing: set.examples.length,
    selection: {
      target_examples: config.budget.target_tokens !== undefined ? null : config.budget.examples,
      target_tokens: config.budget.target_tokens ?? null,
      selected: selected.length,
      tokens_reasoning: selected.reduce((a, e) => a + e.tokens.reasoning, 0),
      tokens_plain: selected.reduce((a, e) => a + e.tokens.plain, 0),
      reached,
    },
    contamination: b.o.contamination
      ? {
          source: b.o.contamination.source,
          ngram: config.contamination.ngram,
          examples: set.contaminated.length,
          enforced: config.contamination.enforce,
          ids: set.contaminated.slice(0, 50),
        }
      : null,
  };
}

/** Items of the set per stage; responses the teacher refused or that stayed cut off apart. */
function stageCounts(
  b: Build,
  set: ChatSetExamples,
  domainRow: ItemRow,
): Record<string, AftStageCount> {
  const response = (p: UserPrompt) => set.responseRows.get(`response:${p.id}`);
  const gated = set.kept.filter(
    (p) => (response(p)?.value as TeacherResponse | undefined)?.gate,
  ).length;
  const responses = countItems(set.kept.map(response));
  return {
    domains: countItems([domainRow]),
    prompts: countItems(set.calls.map((c) => set.promptRows.get(`prompts:${c.key}`))),
    responses: { ...responses, ok: responses.ok - gated, gated },
    judge: countItems(set.kept.map((p) => set.judgeRows.get(aftJudgeKey(b.judgeModel, p.id)))),
  };
}
