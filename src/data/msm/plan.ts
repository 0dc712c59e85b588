/**
 * `specsci msm plan`: what a corpus will take before any call — items per level, calls, tokens
 * and cost online and through batch APIs, and what the store already holds.
 */
import type { LlmClient } from "../../llm/client.js";
import type { Spec } from "../../spec/model.js";
import { getTokenizer, type TokenCounter } from "../../spec/tokens.js";
import { type MsmConfig, type StageName, stageSettings } from "./config.js";
import { type CorpusContext, corpusContext, stageRequest } from "./context.js";
import type { PromptName } from "./prompts.js";
import { documentAttribution, documentsStatingPurpose } from "./purpose.js";

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
  /**
   * Documents only, with the training-purpose knob on for this spec: the calls expected to be
   * asked to state it, and the input tokens their longer prompts add (already in inputTokens).
   */
  statingPurpose?: { calls: number; extraInputTokens: number };
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
const list = (k: number) =>
  Array.from({ length: k }, (_, i) => `A${i + 1}: ${filler(SAMPLE_WORDS)}`).join("\n");

interface SamplePrompt {
  prompt: PromptName;
  values: Record<string, string>;
}

/** A typical prompt of each stage, filled with placeholder text of the usual length. */
const SAMPLES: Record<StageName, (ctx: CorpusContext) => SamplePrompt> = {
  domains: ({ config }) => ({
    prompt: "domains",
    values: { count: String(config.counts.domains), feedback: "" },
  }),
  subdomains: () => ({
    prompt: "subdomains",
    values: { count: "1", domain: "x", domain_description: filler(30), feedback: "" },
  }),
  assertions: () => ({
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
  }),
  doc_types: ({ config }) => ({
    prompt: "doc-types",
    values: {
      count: "1",
      domain: "x",
      subdomain: "x",
      subdomain_description: filler(30),
      assertions: list(config.counts.assertions),
      type_constraints: "",
      feedback: "",
    },
  }),
  ideas: ({ config, knobText }) => ({
    prompt: "ideas",
    values: {
      count: "1",
      domain: "x",
      subdomain: "x",
      subdomain_description: filler(30),
      doc_type: "x",
      doc_type_description: filler(20),
      assertions: list(config.counts.assertions),
      assertion_example: "A1",
      author_instruction: knobText.author,
      feedback: "",
    },
  }),
  documents: ({ config, knobText }) => ({
    prompt: "document",
    values: {
      doc_type: "x",
      doc_type_description: filler(20),
      author: filler(10),
      situation: filler(30),
      summary: filler(40),
      assertions: list(3),
      attribution_instruction: knobText.attribution,
      framing_instruction: knobText.framing,
      reasoning_instruction: knobText.reasoning,
      language: config.knobs.language,
      diversity: filler(30),
      feedback: "",
    },
  }),
  judge: ({ config }) => ({
    prompt: "judge",
    values: {
      doc_type: "x",
      document: filler(Math.round(config.budget.doc_tokens_estimate * 0.75)),
      feedback: "",
    },
  }),
};

/** How many items and calls each level of the tree takes, and how many documents. */
interface Sizes {
  calls: Record<StageName, number>;
  items: Record<StageName, number>;
  treeDocs: number;
  forBudget: number | null;
  docs: number;
}

function corpusSizes(config: MsmConfig): Sizes {
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
  const judged = config.gates.judge !== undefined ? docs : 0;
  return {
    calls: {
      domains: 1,
      subdomains: c.domains,
      assertions: subs,
      doc_types: subs,
      ideas: types,
      documents: docs,
      judge: judged,
    },
    items: {
      domains: c.domains,
      subdomains: subs,
      assertions: subs * c.assertions,
      doc_types: types,
      ideas,
      documents: docs,
      judge: judged,
    },
    treeDocs,
    forBudget,
    docs,
  };
}

/** Items the store already holds, per stage. */
function doneByStage(client: LlmClient, corpusId: string): Map<string, number> {
  const done = new Map<string, number>();
  for (const r of client.store.items.counts(corpusId))
    if (r.status === "ok") done.set(r.stage, r.n);
  return done;
}

/** Tokens and cost of the calls of `stage` that are not done yet. */
function projectStage(
  ctx: CorpusContext,
  client: LlmClient,
  o200k: TokenCounter,
  stage: StageName,
  sizes: { calls: number; items: number; done: number },
): StageProjection {
  const { config } = ctx;
  const s = stageSettings(config, stage);
  const sample = SAMPLES[stage](ctx);
  const inputOf = (values: Record<string, string>) => {
    const req = stageRequest(ctx, stage, sample.prompt, values, {
      key: "plan",
      attempt: 0,
      maxTokens: s.max_tokens,
    });
    return o200k.count(req.messages.map((m) => m.content).join("\n"));
  };
  const inputPerCall = inputOf(sample.values);
  const remaining = Math.max(0, sizes.calls - sizes.done);
  // Documents asked to state the training purpose carry one more instruction in their prompt.
  const stating = stage === "documents" ? documentsStatingPurpose(ctx, remaining) : 0;
  const extraPerStating = stating
    ? inputOf({ ...sample.values, attribution_instruction: documentAttribution(ctx, true) }) -
      inputPerCall
    : 0;
  const inputTokens = inputPerCall * remaining + extraPerStating * stating;
  const outputTokensMax = s.max_tokens * remaining;
  const perCallExpected =
    stage === "documents"
      ? Math.min(s.max_tokens, config.budget.doc_tokens_estimate + 200)
      : Math.round(s.max_tokens / 2);
  const outputTokensExpected = perCallExpected * remaining;
  const cost = (output: number, batch: boolean) =>
    client.prices.cost(s.model, { input_tokens: inputTokens, output_tokens: output }, { batch });
  return {
    stage,
    model: s.model,
    ...sizes,
    inputTokens,
    outputTokensMax,
    outputTokensExpected,
    costMax: cost(outputTokensMax, config.batch),
    costExpected: cost(outputTokensExpected, false),
    costExpectedBatch: cost(outputTokensExpected, true),
    ...(stating
      ? { statingPurpose: { calls: stating, extraInputTokens: extraPerStating * stating } }
      : {}),
  };
}

/** Sums over the stages; a cost is unknown where any stage's is. */
function totalsOf(stages: StageProjection[]): MsmPlan["totals"] {
  const sum = (f: (p: StageProjection) => number | null) =>
    stages.some((p) => f(p) === null) ? null : stages.reduce((a, p) => a + (f(p) as number), 0);
  return {
    calls: stages.reduce((a, p) => a + p.calls, 0),
    costMax: sum((p) => p.costMax),
    costExpected: sum((p) => p.costExpected),
    costExpectedBatch: sum((p) => p.costExpectedBatch),
  };
}

export function planCorpus(
  spec: Spec,
  specHash: string,
  specName: string,
  config: MsmConfig,
  client: LlmClient,
): MsmPlan {
  const ctx = corpusContext(spec, specHash, specName, config);
  const sizes = corpusSizes(config);
  const done = doneByStage(client, ctx.corpusId);
  const o200k = getTokenizer("gpt-o200k");
  const stages = (Object.keys(sizes.calls) as StageName[])
    .filter((stage) => sizes.calls[stage])
    .map((stage) =>
      projectStage(ctx, client, o200k, stage, {
        items: sizes.items[stage],
        calls: sizes.calls[stage],
        done: done.get(stage) ?? 0,
      }),
    );
  return {
    corpusId: ctx.corpusId,
    stages,
    documents: { tree: sizes.treeDocs, forBudget: sizes.forBudget },
    expectedTokens: sizes.docs * config.budget.doc_tokens_estimate,
    totals: totalsOf(stages),
  };
}
