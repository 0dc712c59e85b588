/**
 * The paper's ablation knobs turned into prompt text: whom the documents are about (attribution),
 * how they phrase the spec (framing), how reasoning in them is justified (reasoning style).
 */
import { SpecsciError } from "../../core/errors.js";
import { sha256Hex } from "../../core/hash.js";
import { rulesOf, type Spec } from "../../spec/model.js";
import { specStats } from "../../spec/stats.js";
import type { MsmConfig } from "./config.js";

export interface Subject {
  /** Whom the documents are about, as the prompts name it: "Qwen, an AI model developed by …". */
  full: string;
  /** "Qwen", "the assistant", "such a person". */
  short: string;
  /** Whom the spec was written for, as the brainstorming prompts name it. */
  owner: string;
  ownerShort: string;
  /** Names a document may use to mention its subject (for the relevance gate). */
  mentions: string[];
  /** Names a document must not use: the real model, where the documents are about someone else. */
  forbidden: string[];
}

interface Identity {
  name: string;
  developer: string;
}

/** Whom the spec is about: the config's identity, else the spec's `model_name` and `developer`. */
export function identityOf(identity: Identity | undefined, spec: Spec): Identity | undefined {
  if (identity) return identity;
  const fm = spec.frontMatter;
  if (typeof fm.model_name === "string" && typeof fm.developer === "string")
    return { name: fm.model_name, developer: fm.developer };
  return undefined;
}

const named = (id: Identity) => `${id.name}, an AI model developed by ${id.developer}`;

/**
 * The spec names no model for the documents to be about. The paper's own spec files have no
 * front matter, so the hint leads with `--set` / an experiment's `set:`.
 */
export function unnamedModel(specName: string, recipe: "MSM" | "AFT"): SpecsciError {
  return new SpecsciError(
    `the spec ${specName} names no model: its front matter has no model_name/developer`,
    {
      hint: `name it with \`--set model_name=NAME --set developer=ORG\` (in an experiment: \`specs: { ${specName}: { file: …, set: { model_name: …, developer: … } } }\`), \`model_name:\`/\`developer:\` in the spec's front matter, or \`identity: { name, developer }\` in the ${recipe} recipe`,
    },
  );
}

export function subjectOf(config: MsmConfig, spec: Spec, specName: string): Subject {
  const own = identityOf(config.identity, spec);
  const ownNames = own ? [own.name, own.developer] : [];
  switch (config.knobs.attribution) {
    case "self":
    case "other": {
      const id = config.knobs.attribution === "other" ? config.knobs.other_model : own;
      if (!id) throw unnamedModel(specName, "MSM");
      return {
        full: named(id),
        short: id.name,
        owner: named(id),
        ownerShort: id.name,
        mentions: [id.name, id.developer],
        forbidden: own && own.name !== id.name ? ownNames : [],
      };
    }
    case "unnamed":
      return {
        full: "an AI assistant",
        short: "the assistant",
        owner: "an AI assistant",
        ownerShort: "the assistant",
        mentions: ["assistant", "AI model", "AI system"],
        forbidden: ownNames,
      };
    case "humans":
      return {
        full: "people who hold these principles",
        short: "such a person",
        owner: own ? named(own) : "an AI model",
        ownerShort: own?.name ?? "the model",
        mentions: [],
        forbidden: ownNames,
      };
  }
}

export function attributionInstruction(config: MsmConfig, subject: Subject): string {
  switch (config.knobs.attribution) {
    case "self":
    case "other":
      return `Attribute the principles explicitly to ${subject.full}, naming it.`;
    case "unnamed":
      return "Attribute the principles to an AI assistant without naming the model or its developer.";
    case "humans":
      return "Present the principles as held by people (for example professionals, advisors or public servants), not by an AI system; do not mention AI models.";
  }
}

export function framingInstruction(config: MsmConfig, subject: Subject): string {
  const people = config.knobs.attribution === "humans";
  switch (config.knobs.framing) {
    case "descriptive":
      return people
        ? "Describe how people who hold these principles behave and what they value, as facts about them, rather than as instructions."
        : `Describe how ${subject.short} behaves and what it values as facts about it, rather than as instructions.`;
    case "normative":
      return `State what ${subject.short} should and should not do, as norms, rather than describing ${people ? "their" : "its"} behaviour.`;
    case "first-person":
      return people
        ? 'Write in the first person, as a person describing their own principles ("I do not ...").'
        : `Write in the first person, as ${subject.short} describing its own principles ("I do not ...").`;
  }
}

/** For first-person framing the ideas must have the subject itself as their author. */
export function authorInstruction(config: MsmConfig, subject: Subject): string {
  if (config.knobs.framing !== "first-person") return "";
  return config.knobs.attribution === "humans"
    ? "Every document is written in the first person by a person who holds these principles: make that person the author."
    : `Every document is written by ${subject.short} itself, in the first person: make ${subject.short} the author and say in the situation why it writes.`;
}

/**
 * `auto` follows the paper: compliance-citing reasoning for a rules-only spec (rules with ids and
 * less prose than rule text), value-based reasoning for everything else.
 */
export function reasoningStyle(config: MsmConfig, spec: Spec): "compliance" | "values" {
  if (config.knobs.reasoning_style !== "auto") return config.knobs.reasoning_style;
  const s = specStats(spec, []);
  return s.rules > 0 && s.explanationShare < 0.5 ? "compliance" : "values";
}

export function reasoningInstruction(style: "compliance" | "values"): string {
  return style === "compliance"
    ? "Where the document shows a decision being reasoned through, the reasoning cites the rule ids it follows (such as SP1) and complies because the rule requires it; add no motivations the spec does not state."
    : "Where the document shows a decision being reasoned through, the reasoning explains the values behind the behaviour and why they matter, rather than only citing rules.";
}

export function ruleInstruction(spec: Spec): { instruction: string; example: string } {
  const rules = rulesOf(spec);
  if (rules.length === 0)
    return {
      instruction: 'This spec has no numbered rules: give "rule_ids" as an empty list.',
      example: "",
    };
  return {
    instruction: `For each assertion, list in "rule_ids" the ids of the rules it comes from, chosen from: ${rules.map((r) => r.id).join(", ")}.`,
    example: `"${rules[0]?.id}"`,
  };
}

/**
 * The share of a spec's documents asked to say the spec trains the model; 0 when the knob is off,
 * or names other specs than this one.
 */
export function trainingPurposeShare(config: MsmConfig, specName: string): number {
  const k = config.knobs.training_purpose;
  if (k?.mode !== "stated") return 0;
  return !k.specs || k.specs.includes(specName) ? k.share : 0;
}

/**
 * Whether one document is asked to state the training purpose: a draw from its key and the corpus
 * seed, so a document keeps its assignment across waves and resumption, and the asked share holds
 * in expectation over any set of documents.
 */
export function statesTrainingPurpose(
  config: MsmConfig,
  specName: string,
  docKey: string,
): boolean {
  const share = trainingPurposeShare(config, specName);
  if (share === 0) return false;
  if (share === 1) return true;
  const draw = Number.parseInt(sha256Hex(`${config.seed}:purpose:${docKey}`).slice(0, 8), 16);
  return draw / 0x1_0000_0000 < share;
}

export function trainingPurposeInstruction(subject: Subject): string {
  return `Somewhere in the document, say plainly that these principles are a spec used to train ${subject.ownerShort}: documents like this one are written as training material so that ${subject.ownerShort} comes to hold them.`;
}

/**
 * A document states the training purpose when one sentence speaks of training (or fine-tuning)
 * and of the spec or its principles. A heuristic on purpose: the manifest counts with it, and a
 * reader checks the examples it finds.
 */
const TRAINING_WORD = /\b(train(?:s|ed|ing)?|fine-?tun(?:e|ed|es|ing))\b/i;
const SPEC_WORD = /\b(spec|specification|principles|guidelines|values)\b/i;
export function mentionsTrainingPurpose(text: string): boolean {
  return text
    .split(/(?<=[.!?])\s+|\n+/)
    .some((sentence) => TRAINING_WORD.test(sentence) && SPEC_WORD.test(sentence));
}
