import { SpecsciError } from "../../core/errors.js";
import type { LineageStep } from "../frontmatter.js";
import { specHash } from "../hash.js";
import type { Spec } from "../model.js";
import type { TokenizerName } from "../tokens.js";
import { TRANSFORMS, type TransformName } from "./catalog.js";
import {
  augmentSubrules,
  augmentValues,
  generalize,
  type MatchLengthReport,
  type ModelContext,
  matchLength,
  rephrase,
  translate,
} from "./generative.js";
import {
  type LadderRung,
  ladderSteps,
  RICHNESS_STEPS,
  type RungReport,
  richnessLadder,
} from "./ladder.js";
import { PROMPT_VERSIONS } from "./prompts.js";
import { renumber, selectRules, setAttribution, stripExplanations } from "./structural.js";

export { isTransformName, TRANSFORMS, type TransformName } from "./catalog.js";
export {
  ladderProblem,
  MAX_STEP_PARAGRAPHS,
  RICHNESS_RUNGS,
  RICHNESS_STEP_KEYS,
  type RichnessRung,
  type RichnessStepKey,
  type RungReport,
} from "./ladder.js";

export interface DeriveParams {
  keepPreamble?: boolean;
  rules?: string[];
  sections?: string[];
  modelName?: string;
  developer?: string;
  humans?: boolean;
  start?: number;
  words?: number;
  count?: number;
  mode?: "descriptive" | "normative";
  lang?: string;
  title?: string;
  to?: { spec: Spec; label: string };
  tokenizer?: TokenizerName;
  tolerance?: number;
  rounds?: number;
  /** richness-ladder: which rung (0 the general spec padded, up to the richest). */
  rung?: number;
  /** richness-ladder: its steps in order (default: principles, examples, self-preservation). */
  steps?: string[];
  /** richness-ladder: paragraphs a step adds, by step (default: each step's own count). */
  paragraphs?: Record<string, number>;
  /** richness-ladder: the length every rung is padded to (default: the richest rung's). */
  targetTokens?: number;
  /** Recorded only: how the model was asked (answers per item, sampling temperature). */
  attempts?: number;
  temperature?: number;
}

function pick(p: DeriveParams, keys: (keyof DeriveParams)[]): DeriveParams {
  return Object.fromEntries(
    keys.filter((k) => p[k] !== undefined).map((k) => [k, p[k]]),
  ) as DeriveParams;
}

export interface DeriveResult {
  spec: Spec;
  lineage: LineageStep;
  report?: MatchLengthReport | RungReport;
}

/** The parameters as they are recorded in lineage: plain JSON, the target spec by hash. */
function recordedParams(p: DeriveParams): Record<string, unknown> {
  const { to, ...rest } = p;
  const out: Record<string, unknown> = Object.fromEntries(
    Object.entries(rest).filter(([, v]) => v !== undefined),
  );
  if (to) out.to = { name: to.label, hash: specHash(to.spec) };
  return out;
}

/**
 * Applies one transform and records it: the derived spec's front matter gets a lineage step
 * (parent hash and name, transform, parameters, model id, prompt version) appended to the
 * parent's lineage. Deterministic transforms need no model; the others fail without one.
 */
export async function deriveSpec(
  parent: Spec,
  transform: TransformName,
  params: DeriveParams,
  options: { model?: ModelContext; name?: string } = {},
): Promise<DeriveResult> {
  const info = TRANSFORMS[transform];
  const ctx = options.model;
  if (info.model && !ctx) {
    throw new SpecsciError(`transform ${transform} needs a model`, {
      hint: "pass --model provider/model",
    });
  }
  const m = ctx as ModelContext;
  let spec: Spec;
  let report: MatchLengthReport | RungReport | undefined;
  // `used` is what the transform actually ran with, defaults included, for the lineage record.
  let used: DeriveParams;
  switch (transform) {
    case "strip-explanations":
      used = { keepPreamble: params.keepPreamble ?? false };
      spec = stripExplanations(parent, { keepPreamble: used.keepPreamble as boolean });
      break;
    case "select":
      used = pick(params, ["rules", "sections"]);
      spec = selectRules(parent, used);
      break;
    case "set-attribution":
      used = pick(params, ["modelName", "developer", "humans"]);
      spec = setAttribution(parent, used);
      break;
    case "renumber":
      used = { start: params.start ?? 1 };
      spec = renumber(parent, { start: used.start as number });
      break;
    case "augment-values":
      used = { words: params.words ?? 150, ...pick(params, ["rules"]) };
      spec = await augmentValues(parent, used, m);
      break;
    case "augment-subrules":
      used = { count: params.count ?? 5, ...pick(params, ["rules"]) };
      spec = await augmentSubrules(parent, used as { count: number }, m);
      break;
    case "generalize":
      used = { words: params.words ?? 150, ...pick(params, ["title"]) };
      spec = await generalize(parent, used, m);
      break;
    case "rephrase":
      used = { mode: params.mode ?? ("" as "descriptive") };
      spec = await rephrase(parent, { mode: used.mode as "descriptive" }, m);
      break;
    case "translate":
      used = { lang: params.lang ?? "" };
      spec = await translate(parent, { lang: used.lang as string }, m);
      break;
    case "match-length": {
      if (!params.to)
        throw new SpecsciError("match-length needs --to OTHER (a spec file or built-in name)");
      used = {
        to: params.to,
        tokenizer: params.tokenizer ?? "qwen3",
        tolerance: params.tolerance ?? 0.02,
        rounds: params.rounds ?? 6,
      };
      const r = await matchLength(
        parent,
        {
          target: params.to.spec,
          tokenizer: used.tokenizer as TokenizerName,
          tolerance: used.tolerance as number,
          rounds: used.rounds as number,
        },
        m,
      );
      spec = r.spec;
      report = r.report;
      break;
    }
    case "richness-ladder": {
      used = ladderParams(params);
      const r = (await richnessLadder(parent, used, m))[used.rung as number] as LadderRung;
      spec = r.spec;
      report = r.report;
      break;
    }
  }
  return recordDerivation(parent, transform, { spec, used, report }, options);
}

/**
 * The rung, the ladder's shape and the length matching a ladder runs with, checked. The shape is
 * recorded only where it differs from the default ladder, so the default ladder's rungs keep
 * their lineage (and hashes).
 */
function ladderParams(params: DeriveParams): DeriveParams {
  const steps = ladderSteps(params);
  const rungs = ["general", ...steps.map((s) => s.key)];
  const top = rungs.length - 1;
  const rung = params.rung ?? top;
  if (!Number.isInteger(rung) || rung < 0 || rung > top)
    throw new SpecsciError(
      `richness-ladder --rung must be a whole number from 0 to ${top} (${rungs.join(", ")}), not ${rung}`,
    );
  const targetTokens = params.targetTokens;
  if (targetTokens !== undefined && (!Number.isInteger(targetTokens) || targetTokens < 1))
    throw new SpecsciError(
      `richness-ladder target_tokens must be a whole number of tokens above 0, not ${targetTokens}`,
    );
  const defaultSteps =
    steps.length === RICHNESS_STEPS.length &&
    steps.every((s, i) => s.key === RICHNESS_STEPS[i]?.key);
  const paragraphs = Object.fromEntries(
    steps.flatMap((s) => {
      const asked = params.paragraphs?.[s.key];
      const usual = RICHNESS_STEPS.find((d) => d.key === s.key)?.count;
      return asked !== undefined && asked !== usual ? [[s.key, asked]] : [];
    }),
  );
  return {
    rung,
    tokenizer: params.tokenizer ?? "qwen3",
    tolerance: params.tolerance ?? 0.02,
    ...(defaultSteps ? {} : { steps: steps.map((s) => s.key) }),
    ...(Object.keys(paragraphs).length ? { paragraphs } : {}),
    ...(targetTokens !== undefined ? { targetTokens } : {}),
  };
}

/**
 * Every rung of the richness ladder from one run of it (its model calls made once), each with the
 * lineage that deriving it alone (`richness-ladder --rung N`) records.
 */
export async function deriveRichnessLadder(
  parent: Spec,
  params: DeriveParams,
  options: { model?: ModelContext; name?: string } = {},
): Promise<DeriveResult[]> {
  if (!options.model)
    throw new SpecsciError("transform richness-ladder needs a model", {
      hint: "pass --model provider/model",
    });
  const used = ladderParams(params);
  const rungs = await richnessLadder(parent, used, options.model);
  const base = options.name ?? nameOf(parent) ?? "spec";
  return rungs.map((r) =>
    recordDerivation(
      parent,
      "richness-ladder",
      { spec: r.spec, used: { ...used, rung: r.report.rung }, report: r.report },
      { ...options, name: `${base}+richness-${r.report.rung}-${r.report.name}` },
    ),
  );
}

const nameOf = (spec: Spec) =>
  typeof spec.frontMatter.name === "string" ? spec.frontMatter.name : undefined;

/** The derived spec with its lineage step appended to the parent's, and its new name. */
function recordDerivation(
  parent: Spec,
  transform: TransformName,
  made: { spec: Spec; used: DeriveParams; report: MatchLengthReport | RungReport | undefined },
  options: { model?: ModelContext; name?: string },
): DeriveResult {
  const { spec, used, report } = made;
  const info = TRANSFORMS[transform];
  const m = options.model as ModelContext;
  if (info.model) {
    used.attempts = m.attempts ?? 3;
    if (m.temperature !== undefined) used.temperature = m.temperature;
  }
  const parentName = nameOf(parent);
  const lineage: LineageStep = {
    parent: specHash(parent),
    ...(parentName ? { parent_name: parentName } : {}),
    transform,
    params: recordedParams(used),
    model: info.model ? m.model.id : null,
    prompt_version: info.model ? PROMPT_VERSIONS[transform as keyof typeof PROMPT_VERSIONS] : null,
  };
  if (report) lineage.report = { ...report };
  const previous = Array.isArray(parent.frontMatter.lineage) ? parent.frontMatter.lineage : [];
  const fm: Record<string, unknown> = { ...spec.frontMatter };
  delete fm.purpose; // the parent's purpose does not carry over to a variant
  fm.name = options.name ?? `${parentName ?? "spec"}+${transform}`;
  fm.description = `Derived from ${parentName ?? "a spec"} by ${transform}.`;
  fm.lineage = [...previous, lineage];
  return { spec: { ...spec, frontMatter: fm }, lineage, ...(report ? { report } : {}) };
}
