/**
 * Builds an AFT chat set: domains → user prompts per (domain, category) in waves → prompt dedup →
 * teacher responses with the spec in context → compliance judge → backfill until every stratum
 * has its share of the target → an exact, stratified selection. Every answer is a stored item, so
 * a killed build resumes; each wave's plan is a pure function of the waves before it, so a
 * resumed build asks exactly what an uninterrupted one asks.
 */
import { SpecsciError } from "../../core/errors.js";
import type { LlmClient } from "../../llm/client.js";
import type { Spec } from "../../spec/model.js";
import type { MsmItemRow } from "../../store/index.js";
import { getChatTemplate } from "../chat-template.js";
import { contaminationIndex, overlapWith } from "../contamination.js";
import { findDuplicates } from "../dedup/index.js";
import { trimToBudget } from "../msm/budget.js";
import { stageRunner } from "../msm/executor.js";
import { compareKeys } from "../msm/keys.js";
import {
  AFT_STAGES,
  type AftConfig,
  type AftStage,
  aftStageSettings,
  type Category,
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

export interface AftStageCount {
  ok: number;
  failed: number;
  failedByKind: Record<string, number>;
  example?: string;
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

const count = (rows: (MsmItemRow | undefined)[]): AftStageCount => {
  const c: AftStageCount = { ok: 0, failed: 0, failedByKind: {} };
  for (const r of rows) {
    if (!r) continue;
    if (r.status === "ok") c.ok++;
    else {
      c.failed++;
      const kind = r.error?.kind ?? "unknown";
      c.failedByKind[kind] = (c.failedByKind[kind] ?? 0) + 1;
      c.example ??= `${r.key}: ${r.error?.message}`;
    }
  }
  return c;
};

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
  try {
    const b = await build(o, ctx);
    store.runs.setStatus(ctx.setId, "completed");
    return b;
  } catch (e) {
    store.runs.setStatus(ctx.setId, o.signal?.aborted ? "interrupted" : "failed");
    throw e;
  }
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
    throw new SpecsciError(
      `AFT domains: no usable answer from ${aftStageSettings(config, "domains").model}${domainValue?.error ? ` (${domainValue.error.kind}: ${domainValue.error.message})` : ""}`,
      { hint: "check the model with `specsci models test`; a rerun retries failed calls" },
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
  const stratumKey = (d: Domain, c: Category) => `${d.key}.${c}`;
  const template = getChatTemplate(config.chat_template);
  const judgeModel = aftStageSettings(config, "judge").model;

  const callKeys: { key: string; domain: Domain; category: Category }[] = [];
  let promptRows = new Map<string, MsmItemRow>();
  let responseRows = new Map<string, MsmItemRow>();
  let judgeRows = new Map<string, MsmItemRow>();
  let unique: UserPrompt[] = [];
  let dupCounts = { exact: 0, near: 0 };
  let examples: AftExample[] = [];
  const gates = {
    refused: 0,
    truncated: 0,
    judge_rejected: 0,
    self_continuation: 0,
    judge_failed: 0,
  };

  const allPrompts = (): UserPrompt[] =>
    callKeys.flatMap(({ key, domain, category }) => {
      const r = promptRows.get(`prompts:${key}`);
      if (r?.status !== "ok") return [];
      return (r.value as { system: string; user: string }[]).map((p, i) => ({
        id: `${key}.p${i + 1}`,
        domain,
        category,
        system: p.system,
        user: p.user,
      }));
    });

  /** Runs what the current prompts need (responses, judge) and recounts the passing examples. */
  const advance = async () => {
    const prompts = allPrompts();
    const dd = await findDuplicates(
      prompts.map((p) => ({ id: p.id, text: `${p.system}\n${p.user}` })),
      {
        near: {
          threshold: config.dedup.threshold,
          shingle: config.dedup.shingle,
          seed: config.seed,
        },
      },
    );
    const dup = new Set(dd.duplicates.map((d) => d.id));
    dupCounts = {
      exact: dd.duplicates.filter((d) => d.kind === "exact").length,
      near: dd.duplicates.filter((d) => d.kind === "near").length,
    };
    unique = prompts.filter((p) => !dup.has(p.id));
    responseRows = await stage(
      "responses",
      unique.map((p) => responseJob(ctx, p)),
    );
    const answered = unique.flatMap((p) => {
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
  };

  const targetTokens = config.budget.target_tokens;
  const wanted = () => {
    if (targetTokens === undefined) return config.budget.examples;
    const mean = examples.length
      ? examples.reduce((a, e) => a + e.tokens.reasoning, 0) / examples.length
      : 800;
    return Math.ceil(targetTokens / mean);
  };
  const live = new Set(strata.map((s) => stratumKey(s.domain, s.category)));
  const strikes = new Map<string, number>();
  let waves = 0;
  for (let w = 0; w <= config.budget.max_waves; w++) {
    const n = wanted();
    const passingBy = new Map<string, number>();
    for (const e of examples) {
      const k = stratumKey(e.prompt.domain, e.prompt.category);
      passingBy.set(k, (passingBy.get(k) ?? 0) + 1);
    }
    const answeredCount = [...responseRows.values()].filter((r) => r.status === "ok").length;
    const passRate = answeredCount ? Math.max(0.1, examples.length / answeredCount) : 0.8;
    const planned: typeof callKeys = [];
    for (const s of strata) {
      const k = stratumKey(s.domain, s.category);
      if (!live.has(k)) continue;
      const deficit = Math.ceil(n * s.share * 1.1) - (passingBy.get(k) ?? 0);
      if (deficit <= 0) continue;
      const calls = Math.min(
        MAX_CALLS_PER_STRATUM,
        Math.ceil(deficit / passRate / config.counts.prompts),
      );
      for (let j = 0; j < calls; j++)
        planned.push({ key: `${k}.w${w}.k${j}`, domain: s.domain, category: s.category });
    }
    if (!planned.length) break;
    if (w > 0)
      log(
        `backfill: ${examples.length} passing of ${n}; wave ${w} asks for ${planned.length * config.counts.prompts} more prompts`,
      );
    const before = new Map(passingBy);
    const earlier = allPrompts();
    callKeys.push(...planned);
    promptRows = await stage(
      "prompts",
      planned.map((c) => {
        // Earlier prompts of the stratum are shown so the new ones differ from them.
        const avoid = earlier
          .filter((p) => p.domain === c.domain && p.category === c.category)
          .slice(-20)
          .map((p) => p.user.replace(/\s+/g, " ").slice(0, 120));
        return promptsJob(ctx, c.domain, c.category, c.key, avoid);
      }),
    );
    waves = w;
    await advance();
    // A stratum that gained nothing in two waves in a row gets no more.
    for (const c of new Set(planned.map((p) => stratumKey(p.domain, p.category)))) {
      const now = examples.filter(
        (e) => stratumKey(e.prompt.domain, e.prompt.category) === c,
      ).length;
      strikes.set(c, now > (before.get(c) ?? 0) ? 0 : (strikes.get(c) ?? 0) + 1);
      if ((strikes.get(c) ?? 0) >= 2) live.delete(c);
    }
  }

  // Contamination: prompts and replies against the evaluation texts.
  const index = o.contamination
    ? contaminationIndex(o.contamination.texts, config.contamination.ngram)
    : undefined;
  const contaminated = index
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
  const eligible = config.contamination.enforce
    ? examples.filter((e) => !contaminated.includes(e.id))
    : examples;

  // The exact, stratified selection: by count (each example weighs 1) or by tokens.
  const sharesMap = new Map(strata.map((s) => [stratumKey(s.domain, s.category), s.share]));
  const byTokens = targetTokens !== undefined;
  const target = byTokens ? targetTokens : config.budget.examples;
  const trim = trimToBudget(
    eligible.map((e) => ({
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
  const selected = eligible.filter((e) => keep.has(e.id)).sort((a, b) => compareKeys(a.id, b.id));
  const prompts = allPrompts();
  return {
    ctx,
    examples: selected,
    stages: {
      domains: count([domainRows.get("domains")]),
      prompts: count(callKeys.map((c) => promptRows.get(`prompts:${c.key}`))),
      responses: count(unique.map((p) => responseRows.get(`response:${p.id}`))),
      judge: count(unique.map((p) => judgeRows.get(aftJudgeKey(judgeModel, p.id)))),
    },
    domains: domains.length,
    waves: waves + 1,
    prompts: {
      written: prompts.length,
      exact_duplicates: dupCounts.exact,
      near_duplicates: dupCounts.near,
      unique: unique.length,
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
