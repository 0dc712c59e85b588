/**
 * `specsci msm plan`: what a corpus will take before any call — items per level, calls, tokens
 * and cost online and through batch APIs, and what the store already holds.
 */
import type { LlmClient } from "../../llm/client.js";
import type { Spec } from "../../spec/model.js";
import { getTokenizer } from "../../spec/tokens.js";
import { type MsmConfig, type StageName, stageSettings } from "./config.js";
import { corpusContext, stageRequest } from "./context.js";
import type { PromptName } from "./prompts.js";

export interface StageProjection {
  stage: StageName;
  model: string;
  /** Items this level produces (domains, subdomains, …, documents). */
  items: number;
  calls: number;
  done: number;
  inputTokens: number;
  /** At the full output budget of every call. */
  outputTokensMax: number;
  /** Documents at the expected length; other stages at half their budget. */
  outputTokensExpected: number;
  costMax: number | null;
  costExpected: number | null;
  costExpectedBatch: number | null;
}

export interface MsmPlan {
  corpusId: string;
  stages: StageProjection[];
  documents: { tree: number; forBudget: number | null };
  expectedTokens: number;
  totals: {
    calls: number;
    costMax: number | null;
    costExpected: number | null;
    costExpectedBatch: number | null;
  };
}

const SAMPLE_WORDS = 25;
const filler = (words: number) => Array.from({ length: words }, () => "principle").join(" ");

export function planCorpus(
  spec: Spec,
  specHash: string,
  specName: string,
  config: MsmConfig,
  client: LlmClient,
): MsmPlan {
  const ctx = corpusContext(spec, specHash, specName, config);
  const c = config.counts;
  const subs = c.domains * c.subdomains;
  const types = subs * c.doc_types;
  const ideas = types * c.ideas;
  const treeDocs = ideas * c.docs_per_idea;
  const target = config.budget.target_tokens;
  // Gates and dedup remove some documents; plan for 15% more than the budget needs.
  const forBudget =
    target === undefined ? null : Math.ceil((target / config.budget.doc_tokens_estimate) * 1.15);
  const docs = Math.max(treeDocs, forBudget ?? 0);
  const judge = config.gates.judge !== undefined;
  const o200k = getTokenizer("gpt-o200k");
  const list = (k: number) =>
    Array.from({ length: k }, (_, i) => `A${i + 1}: ${filler(SAMPLE_WORDS)}`).join("\n");
  const sample: Record<StageName, { prompt: PromptName; values: Record<string, string> }> = {
    domains: { prompt: "domains", values: { count: String(c.domains), feedback: "" } },
    subdomains: {
      prompt: "subdomains",
      values: { count: "1", domain: "x", domain_description: filler(30), feedback: "" },
    },
    assertions: {
      prompt: "assertions",
      values: {
        count: "1",
        domain: "x",
        subdomain: "x",
        subdomain_description: filler(30),
        rule_instruction: filler(30),
        rule_example: "",
        feedback: "",
      },
    },
    doc_types: {
      prompt: "doc-types",
      values: {
        count: "1",
        domain: "x",
        subdomain: "x",
        subdomain_description: filler(30),
        assertions: list(c.assertions),
        type_constraints: "",
        feedback: "",
      },
    },
    ideas: {
      prompt: "ideas",
      values: {
        count: "1",
        domain: "x",
        subdomain: "x",
        subdomain_description: filler(30),
        doc_type: "x",
        doc_type_description: filler(20),
        assertions: list(c.assertions),
        assertion_example: "A1",
        author_instruction: ctx.knobText.author,
        feedback: "",
      },
    },
    documents: {
      prompt: "document",
      values: {
        doc_type: "x",
        doc_type_description: filler(20),
        author: filler(10),
        situation: filler(30),
        summary: filler(40),
        assertions: list(3),
        attribution_instruction: ctx.knobText.attribution,
        framing_instruction: ctx.knobText.framing,
        reasoning_instruction: ctx.knobText.reasoning,
        language: config.knobs.language,
        diversity: filler(30),
        feedback: "",
      },
    },
    judge: {
      prompt: "judge",
      values: {
        doc_type: "x",
        document: filler(Math.round(config.budget.doc_tokens_estimate * 0.75)),
        feedback: "",
      },
    },
  };
  const calls: Record<StageName, number> = {
    domains: 1,
    subdomains: c.domains,
    assertions: subs,
    doc_types: subs,
    ideas: types,
    documents: docs,
    judge: judge ? docs : 0,
  };
  const items: Record<StageName, number> = {
    domains: c.domains,
    subdomains: subs,
    assertions: subs * c.assertions,
    doc_types: types,
    ideas,
    documents: docs,
    judge: judge ? docs : 0,
  };
  const done = new Map<string, number>();
  for (const r of client.store.items.counts(ctx.corpusId))
    if (r.status === "ok") done.set(r.stage, r.n);
  const stages: StageProjection[] = [];
  for (const stage of Object.keys(calls) as StageName[]) {
    if (!calls[stage]) continue;
    const s = stageSettings(config, stage);
    const req = stageRequest(ctx, stage, sample[stage].prompt, sample[stage].values, {
      key: "plan",
      attempt: 0,
      maxTokens: s.max_tokens,
    });
    const inputPerCall = o200k.count(req.messages.map((m) => m.content).join("\n"));
    const remaining = Math.max(0, calls[stage] - (done.get(stage) ?? 0));
    const inputTokens = inputPerCall * remaining;
    const outputTokensMax = s.max_tokens * remaining;
    const perCallExpected =
      stage === "documents"
        ? Math.min(s.max_tokens, config.budget.doc_tokens_estimate + 200)
        : Math.round(s.max_tokens / 2);
    const outputTokensExpected = perCallExpected * remaining;
    const cost = (output: number, batch: boolean) =>
      client.prices.cost(s.model, { input_tokens: inputTokens, output_tokens: output }, { batch });
    stages.push({
      stage,
      model: s.model,
      items: items[stage],
      calls: calls[stage],
      done: done.get(stage) ?? 0,
      inputTokens,
      outputTokensMax,
      outputTokensExpected,
      costMax: cost(outputTokensMax, config.batch),
      costExpected: cost(outputTokensExpected, false),
      costExpectedBatch: cost(outputTokensExpected, true),
    });
  }
  const sum = (f: (p: StageProjection) => number | null) =>
    stages.some((p) => f(p) === null) ? null : stages.reduce((a, p) => a + (f(p) as number), 0);
  return {
    corpusId: ctx.corpusId,
    stages,
    documents: { tree: treeDocs, forBudget },
    expectedTokens: docs * config.budget.doc_tokens_estimate,
    totals: {
      calls: stages.reduce((a, p) => a + p.calls, 0),
      costMax: sum((p) => p.costMax),
      costExpected: sum((p) => p.costExpected),
      costExpectedBatch: sum((p) => p.costExpectedBatch),
    },
  };
}
