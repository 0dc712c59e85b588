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
import { getChatTemplate } from "../chat-template.js";
import { contaminationIndex, overlapWith } from "../contamination.js";
import { findDuplicates } from "../dedup/index.js";
import { countItems, type StageCount } from "../item-counts.js";
import { NoUsableAnswer } from "../item-failures.js";
import { trimToBudget } from "../msm/budget.js";
import { stageRunner } from "../msm/executor.js";
import { compareKeys } from "../msm/keys.js";
import { runWaves } from "../waves.js";
import { planBackfill } from "./backfill.js";
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

/** Calls of one wave per stratum are capped, so one wave cannot run away. */
const MAX_CALLS_PER_STRATUM = 10;

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
  const { config, client } = o;
  const log = o.log ?? (() => {});
  const stage = stageRunner({
    client,
    runId: ctx.setId,
    attempts: config.attempts,
    concurrency: config.concurrency,
    batch: config.batch,
    signal: o.signal,
    log,
    settings: (name) => aftStageSettings(config, name as AftStage),
  });

  if (config.batch)
    // Every stage's model must have a batch API: found out now, not after the prompts are written.
    for (const model of new Set(AFT_STAGES.map((s) => aftStageSettings(config, s).model)))
      client.batchRunner(model);
  const domainRows = await stage("domains", [domainsJob(ctx)]);
  const domainValue = domainRows.get("domains");
  if (domainValue?.status !== "ok")
    throw new NoUsableAnswer(
      `AFT domains: no usable answer from ${aftStageSettings(config, "domains").model}${domainValue?.error ? ` (${domainValue.error.kind}: ${domainValue.error.message})` : ""}`,
      ctx.setId,
    );
  const domains: Domain[] = (domainValue.value as { name: string; description: string }[]).map(
    (d, i) => ({
      ...d,
      key: `d${i + 1}`,
    }),
  );
  const shares = categoryShares(config);
  const strata = domains.flatMap((d) =>
    shares.map((s) => ({ domain: d, category: s.category, share: s.share / domains.length })),
  );
  const stratumKey = (d: Domain, c: AftCategory) => `${d.key}.${c}`;
  const domainByKey = new Map(domains.map((d) => [d.key, d]));
  const strataByKey = new Map(strata.map((s) => [stratumKey(s.domain, s.category), s]));
  const template = getChatTemplate(config.chat_template);
  const judgeModel = aftStageSettings(config, "judge").model;

  const index = o.contamination
    ? contaminationIndex(o.contamination.texts, config.contamination.ngram)
    : undefined;
  const targetTokens = config.budget.target_tokens;
  // Waves are planned for one target and one notion of eligible: a set enforcing contamination
  // has its own waves (and prompts), so replaying them never changes a set that does not.
  const targetTag = `${targetTokens === undefined ? `n${config.budget.examples}` : `t${targetTokens}`}${config.contamination.enforce ? `.c${config.contamination.ngram}` : ""}`;
  const calls: WaveCall[] = [];
  const kept: UserPrompt[] = [];
  const keptIds = new Set<string>();
  const written = new Map<string, number>();
  let promptRows = new Map<string, ItemRow>();
  let responseRows = new Map<string, ItemRow>();
  let judgeRows = new Map<string, ItemRow>();
  const dupCounts = { exact: 0, near: 0 };
  let examples: AftExample[] = [];
  let contaminated: string[] = [];
  const gates = {
    refused: 0,
    truncated: 0,
    judge_rejected: 0,
    self_continuation: 0,
    judge_failed: 0,
  };

  const promptsOf = (c: WaveCall): UserPrompt[] => {
    const r = promptRows.get(`prompts:${c.key}`);
    if (r?.status !== "ok") return [];
    const domain = domainByKey.get(c.domain) as Domain;
    return (r.value as { system: string; user: string }[]).map((p, i) => ({
      id: `${c.key}.p${i + 1}`,
      domain,
      category: c.category,
      system: p.system,
      user: p.user,
    }));
  };

  /** New prompts are deduplicated against the kept ones, which stay kept. */
  const admit = async (fresh: UserPrompt[]) => {
    for (const p of fresh) {
      const k = stratumKey(p.domain, p.category);
      written.set(k, (written.get(k) ?? 0) + 1);
    }
    const dd = await findDuplicates(
      [...kept, ...fresh].map((p) => ({ id: p.id, text: p.user })),
      {
        near: {
          threshold: config.dedup.threshold,
          shingle: config.dedup.shingle,
          seed: config.seed,
        },
      },
    );
    const dup = new Map(dd.duplicates.filter((d) => !keptIds.has(d.id)).map((d) => [d.id, d.kind]));
    for (const kind of dup.values()) dupCounts[kind]++;
    for (const p of fresh)
      if (!dup.has(p.id)) {
        kept.push(p);
        keptIds.add(p.id);
      }
  };

  /** Answers and judges what the kept prompts need, and recounts the passing examples. */
  const advance = async () => {
    responseRows = await stage(
      "responses",
      kept.map((p) => responseJob(ctx, p)),
    );
    const answered = kept.flatMap((p) => {
      const r = responseRows.get(`response:${p.id}`);
      return r?.status === "ok" ? [{ p, r: r.value as TeacherResponse }] : [];
    });
    judgeRows = await stage(
      "judge",
      answered.filter(({ r }) => r.gate === null).map(({ p, r }) => judgeJob(ctx, p, r)),
    );
    for (const k of Object.keys(gates) as (keyof typeof gates)[]) gates[k] = 0;
    examples = [];
    for (const { p, r } of answered) {
      if (r.gate) {
        gates[r.gate]++;
        continue;
      }
      const j = judgeRows.get(aftJudgeKey(judgeModel, p.id));
      if (j?.status !== "ok") {
        gates.judge_failed++;
        continue;
      }
      const v = j.value as JudgeVerdict;
      if (v.self_continuation) gates.self_continuation++;
      else if (!v.pass) gates.judge_rejected++;
      if (!v.pass || v.self_continuation) continue;
      const reasoning = chatMessages(p, r, template, true);
      const plain = chatMessages(p, r, template, false);
      examples.push({
        id: p.id,
        prompt: p,
        response: r,
        judge: v,
        tokens: { reasoning: template.count(reasoning), plain: template.count(plain) },
      });
    }
    contaminated = index
      ? examples
          .filter(
            (e) =>
              overlapWith(
                `${e.prompt.system}\n${e.prompt.user}\n${e.response.reasoning}\n${e.response.reply}`,
                index,
              ).count > 0,
          )
          .map((e) => e.id)
      : [];
  };
  const eligible = () => {
    if (!config.contamination.enforce) return examples;
    const out = new Set(contaminated);
    return examples.filter((e) => !out.has(e.id));
  };

  const count = (k: string) => {
    const ex = eligible().filter((e) => stratumKey(e.prompt.domain, e.prompt.category) === k);
    return { n: ex.length, tokens: ex.reduce((a, e) => a + e.tokens.reasoning, 0) };
  };
  const waves = await runWaves<WavePlan>({
    store: client.store,
    runId: ctx.setId,
    strata: strata.map((s) => stratumKey(s.domain, s.category)),
    first: 0,
    last: config.budget.max_waves,
    key: (w) => `wave:${targetTag}:${w}`,
    plan: (w, live) => {
      const answered = new Map<string, number>();
      for (const p of kept)
        if (responseRows.get(`response:${p.id}`)?.status === "ok")
          answered.set(
            stratumKey(p.domain, p.category),
            (answered.get(stratumKey(p.domain, p.category)) ?? 0) + 1,
          );
      const needs = planBackfill(
        strata.map((s) => {
          const k = stratumKey(s.domain, s.category);
          const c = count(k);
          return {
            key: k,
            share: s.share,
            live: live.has(k),
            examples: c.n,
            tokens: c.tokens,
            written: written.get(k) ?? 0,
            kept: kept.filter((p) => stratumKey(p.domain, p.category) === k).length,
            answered: answered.get(k) ?? 0,
          };
        }),
        targetTokens === undefined
          ? { examples: config.budget.examples }
          : { tokens: targetTokens },
      );
      const plan: WavePlan = { calls: [] };
      for (const need of needs) {
        const s = strataByKey.get(need.key) as (typeof strata)[number];
        const per = config.counts.prompts;
        const n = Math.min(need.prompts, per * MAX_CALLS_PER_STRATUM);
        for (let k = 0; k * per < n; k++)
          plan.calls.push({
            // The target is in the key: a set built for another size asks for other counts, and
            // must not be answered with this one's stored prompts.
            key: `${need.key}.${targetTag}.w${w}.k${k}`,
            domain: s.domain.key,
            category: s.category,
            count: Math.min(per, n - k * per),
          });
      }
      return plan.calls.length ? plan : undefined;
    },
    planned: (plan, w) => {
      if (w > 0)
        log(
          `backfill: wave ${w} asks for ${plan.calls.reduce((a, c) => a + c.count, 0)} more prompts`,
        );
    },
    strataOf: (plan) => plan.calls.map((c) => `${c.domain}.${c.category}`),
    run: async (plan) => {
      const earlier = [...kept];
      calls.push(...plan.calls);
      promptRows = await stage(
        "prompts",
        plan.calls.map((c) => {
          const domain = domainByKey.get(c.domain) as Domain;
          // Earlier prompts of the stratum are shown so the new ones differ from them.
          const avoid = earlier
            .filter((p) => p.domain === domain && p.category === c.category)
            .slice(-20)
            .map((p) => p.user.replace(/\s+/g, " ").slice(0, 120));
          return promptsJob(ctx, domain, c.category, c.key, c.count, avoid);
        }),
      );
      await admit(plan.calls.flatMap(promptsOf));
      await advance();
    },
    measure: () =>
      new Map(
        strata.map((s) => [
          stratumKey(s.domain, s.category),
          count(stratumKey(s.domain, s.category)).n,
        ]),
      ),
  });
  const pool = eligible();

  // The exact, stratified selection: by count (each example weighs 1) or by tokens.
  const sharesMap = new Map(strata.map((s) => [stratumKey(s.domain, s.category), s.share]));
  const byTokens = targetTokens !== undefined;
  const target = byTokens ? targetTokens : config.budget.examples;
  const trim = trimToBudget(
    pool.map((e) => ({
      key: e.id,
      domain: e.prompt.domain.key,
      type: stratumKey(e.prompt.domain, e.prompt.category),
      rep: 0,
      tokens: byTokens ? e.tokens.reasoning : 1,
    })),
    strata.map((s) => ({ domain: s.domain.key, type: stratumKey(s.domain, s.category) })),
    target,
    byTokens ? config.budget.tolerance : 0,
    config.seed,
    sharesMap,
  );
  const keep = new Set(trim.kept.map((d) => d.key));
  const selected = pool.filter((e) => keep.has(e.id)).sort((a, b) => compareKeys(a.id, b.id));
  const gated = kept.filter(
    (p) => (responseRows.get(`response:${p.id}`)?.value as TeacherResponse | undefined)?.gate,
  ).length;
  const responses = countItems(kept.map((p) => responseRows.get(`response:${p.id}`)));
  return {
    ctx,
    examples: selected,
    stages: {
      domains: countItems([domainRows.get("domains")]),
      prompts: countItems(calls.map((c) => promptRows.get(`prompts:${c.key}`))),
      // Answers the teacher refused or that stayed cut off are counted apart (and in gates).
      responses: { ...responses, ok: responses.ok - gated, gated },
      judge: countItems(kept.map((p) => judgeRows.get(aftJudgeKey(judgeModel, p.id)))),
    },
    domains: domains.length,
    waves,
    prompts: {
      written: [...written.values()].reduce((a, n) => a + n, 0),
      exact_duplicates: dupCounts.exact,
      near_duplicates: dupCounts.near,
      unique: kept.length,
    },
    gates,
    passing: examples.length,
    selection: {
      target_examples: byTokens ? null : config.budget.examples,
      target_tokens: targetTokens ?? null,
      selected: selected.length,
      tokens_reasoning: selected.reduce((a, e) => a + e.tokens.reasoning, 0),
      tokens_plain: selected.reduce((a, e) => a + e.tokens.plain, 0),
      reached: trim.withinTolerance,
    },
    contamination: o.contamination
      ? {
          source: o.contamination.source,
          ngram: config.contamination.ngram,
          examples: contaminated.length,
          enforced: config.contamination.enforce,
          ids: contaminated.slice(0, 50),
        }
      : null,
  };
}
