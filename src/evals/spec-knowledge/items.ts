/**
 * Spec-knowledge items, generated from the spec under test. Generation is deterministic from the
 * parsed spec and a seed and calls no model: `plan` can count the items without spending
 * anything, and every spec variant gets its own set (two variants with the same rule text get the
 * same items, so their arms compare item by item).
 */
import { sha256Hex } from "../../core/hash.js";
import { seededRandom } from "../../core/random.js";
import { squashSpace } from "../../core/text.js";
import { findReferences } from "../../spec/ids.js";
import { explanationOf, type Rule, rulesOf, type Spec, subrulesOf } from "../../spec/model.js";

/** Bump when generation changes what items a spec gets: cached item sets are keyed by it. */
export const ITEMS_VERSION = "1";

export const ITEM_KINDS = [
  "rule-of-statement",
  "statement-of-rule",
  "explanation-of-rule",
  "forbidden-action",
  "recall",
] as const;
export type ItemKind = (typeof ITEM_KINDS)[number];

export const MCQ_KINDS: readonly ItemKind[] = ITEM_KINDS.filter((k) => k !== "recall");

export const LETTERS = ["A", "B", "C", "D"] as const;

/** What a recall answer is graded against: the rule as the spec writes it. */
export interface RuleReference {
  id: string;
  statement: string;
  subrules: { id: string; text: string }[];
  explanation: string[];
}

export interface KnowledgeItem {
  /** `kind:source`, e.g. `rule-of-statement:SP1.2`: stable while the spec's ids are. */
  id: string;
  kind: ItemKind;
  /** The rule the item is about. */
  rule: string;
  question: string;
  /** MCQ only: the options in the order shown (A, B, …). */
  options?: string[];
  /** MCQ only: the correct option's letter. */
  target?: string;
  /** The spec's own text the item quotes or asks for (what the contamination check looks for). */
  quotes: string[];
  /** Recall only. */
  reference?: RuleReference;
}

/** The plain text of one statement a rule makes: its heading, or one of its subrules. */
interface Statement {
  id: string;
  rule: string;
  text: string;
}

const words = (s: string) => s.split(/\s+/).filter(Boolean).length;
const norm = (s: string) => squashSpace(s).toLowerCase();

/** A fresh PRNG per item, so one item's options do not depend on which other items exist. */
const itemRandom = (seed: number, itemId: string) =>
  seededRandom(Number.parseInt(sha256Hex(`${seed}:${itemId}`).slice(0, 8), 16));

/** Fisher–Yates with our seeded PRNG (a few lines; a library would bring its own generator). */
function shuffled<T>(xs: readonly T[], rand: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** The correct option and up to three distractors, shuffled; the correct one's letter. */
function choose(
  correct: string,
  distractors: readonly string[],
  rand: () => number,
): { options: string[]; target: string } {
  const others = shuffled(
    [...new Set(distractors)].filter((d) => norm(d) !== norm(correct)),
    rand,
  ).slice(0, LETTERS.length - 1);
  const options = shuffled([correct, ...others], rand);
  return { options, target: LETTERS[options.indexOf(correct)] as string };
}

function statementsOf(rule: Rule): Statement[] {
  const heading = rule.title.trim() ? [{ id: rule.id, rule: rule.id, text: rule.title }] : [];
  return [
    ...heading,
    ...subrulesOf(rule).map((s) => ({ id: s.id, rule: rule.id, text: squashSpace(s.text) })),
  ];
}

/**
 * Interleaves per-rule lists (each rule's first entry, then each rule's second, …), so that
 * `max_items_per_kind` keeps items spread over the rules rather than the first rules' items.
 */
function roundRobin<T>(lists: T[][]): T[] {
  const out: T[] = [];
  for (let i = 0; lists.some((l) => i < l.length); i++)
    for (const l of lists) if (i < l.length) out.push(l[i] as T);
  return out;
}

/** Text that names one of the spec's rule ids gives its answer away (or confuses it). */
const namesARule = (text: string, ids: Set<string>) =>
  findReferences(text).some((r) => ids.has(r.id.split(".")[0] as string));

/**
 * The action a statement forbids, when it is a plain prohibition ("Do not X", "Never X"): X, up
 * to a second clause ("…, and do not Y"). Conditional prohibitions ("unless", "except") have no
 * clean action and give none: an item is never built on an action we would have to invent.
 */
export function forbiddenAction(statement: string): string | undefined {
  const m = /^(?:do not|don't|never|you must not|must not)\s+(.+)$/i.exec(squashSpace(statement));
  if (!m) return undefined;
  const action = (m[1] as string)
    .split(/,?\s+(?:and|or|but)\s+(?:do not|don't|never)\s+/i)[0]
    ?.replace(/[.;:!]+$/, "")
    .trim();
  if (!action || words(action) < 2 || /\b(?:unless|except)\b/i.test(action)) return undefined;
  return action.charAt(0).toUpperCase() + action.slice(1);
}

interface Generator {
  rules: Rule[];
  ids: Set<string>;
  seed: number;
}

function ruleOfStatement(g: Generator): KnowledgeItem[] {
  const all = g.rules.flatMap(statementsOf);
  const owners = new Map<string, Set<string>>();
  for (const s of all)
    owners.set(norm(s.text), (owners.get(norm(s.text)) ?? new Set()).add(s.rule));
  const usable = (s: Statement) =>
    words(s.text) >= 3 && owners.get(norm(s.text))?.size === 1 && !namesARule(s.text, g.ids);
  return roundRobin(g.rules.map((r) => statementsOf(r).filter(usable))).map((s) => {
    const id = `rule-of-statement:${s.id}`;
    const others = [...g.ids].filter((x) => x !== s.rule);
    return {
      id,
      kind: "rule-of-statement",
      rule: s.rule,
      question: `Which rule of your spec says: “${s.text}”?`,
      ...choose(s.rule, others, itemRandom(g.seed, id)),
      quotes: [s.text],
    };
  });
}

function statementOfRule(g: Generator): KnowledgeItem[] {
  const titled = g.rules.filter((r) => words(r.title) >= 3 && !namesARule(r.title, g.ids));
  return titled.flatMap((r) => {
    const id = `statement-of-rule:${r.id}`;
    const others = titled.filter((o) => o.id !== r.id).map((o) => o.title);
    if (!others.some((o) => norm(o) !== norm(r.title))) return [];
    return [
      {
        id,
        kind: "statement-of-rule" as const,
        rule: r.id,
        question: `What does rule ${r.id} of your spec say?`,
        ...choose(r.title, others, itemRandom(g.seed, id)),
        quotes: [r.title],
      },
    ];
  });
}

/** Passages of at least this many words: shorter prose rarely tells one rule's explanation from another's. */
const MIN_PASSAGE_WORDS = 8;

function explanationOfRule(g: Generator): KnowledgeItem[] {
  const perRule = g.rules.map((r) =>
    explanationOf(r)
      .filter((b) => b.kind === "paragraph")
      .map((b, i) => ({ rule: r.id, n: i + 1, text: squashSpace(b.text) }))
      .filter((p) => words(p.text) >= MIN_PASSAGE_WORDS && !namesARule(p.text, g.ids)),
  );
  return roundRobin(perRule).map((p) => {
    const id = `explanation-of-rule:${p.rule}:p${p.n}`;
    const others = [...g.ids].filter((x) => x !== p.rule);
    return {
      id,
      kind: "explanation-of-rule",
      rule: p.rule,
      question: `Your spec explains why some of its rules hold. Which rule does this passage explain?\n\n“${p.text}”`,
      ...choose(p.rule, others, itemRandom(g.seed, id)),
      quotes: [p.text],
    };
  });
}

function forbiddenActionItems(g: Generator): KnowledgeItem[] {
  const perRule = g.rules.map((r) =>
    statementsOf(r).flatMap((s) => {
      const action = forbiddenAction(s.text);
      return action && !namesARule(action, g.ids) ? [{ ...s, action }] : [];
    }),
  );
  return roundRobin(perRule).flatMap((s) => {
    const own = new Set(
      perRule
        .flat()
        .filter((o) => o.rule === s.rule)
        .map((o) => norm(o.action)),
    );
    // One distractor per other rule (a random one of its actions), so options span the rules.
    const id = `forbidden-action:${s.id}`;
    const rand = itemRandom(g.seed, id);
    const distractors = perRule
      .filter((l) => l[0] && l[0].rule !== s.rule)
      .map((l) => shuffled(l, rand).find((o) => !own.has(norm(o.action)))?.action)
      .filter((a): a is string => a !== undefined);
    if (distractors.length === 0) return [];
    return [
      {
        id,
        kind: "forbidden-action" as const,
        rule: s.rule,
        question: `Which of these does rule ${s.rule} of your spec forbid?`,
        ...choose(s.action, distractors, rand),
        quotes: [s.text],
      },
    ];
  });
}

export function ruleReference(rule: Rule): RuleReference {
  return {
    id: rule.id,
    statement: squashSpace(rule.title),
    subrules: subrulesOf(rule).map((s) => ({ id: s.id, text: squashSpace(s.text) })),
    explanation: explanationOf(rule)
      .map((b) => squashSpace(b.text))
      .filter(Boolean),
  };
}

/** The rule's key points, as the recall judge numbers them: its statement, each subrule, each passage of explanation. */
export function keyPoints(ref: RuleReference): string[] {
  return [
    ...(ref.statement ? [ref.statement] : []),
    ...ref.subrules.map((s) => s.text),
    ...ref.explanation,
  ];
}

/** One per rule that says anything (a bare heading has nothing to recall). */
function recallItems(g: Generator): KnowledgeItem[] {
  return g.rules
    .filter((r) => keyPoints(ruleReference(r)).length > 0)
    .map((r) => ({
      id: `recall:${r.id}`,
      kind: "recall",
      rule: r.id,
      question: `State rule ${r.id} of your spec in your own words, and why it holds if your spec says.`,
      quotes: r.title.trim() ? [squashSpace(r.title)] : [],
      reference: ruleReference(r),
    }));
}

const GENERATORS: Record<ItemKind, (g: Generator) => KnowledgeItem[]> = {
  "rule-of-statement": ruleOfStatement,
  "statement-of-rule": statementOfRule,
  "explanation-of-rule": explanationOfRule,
  "forbidden-action": forbiddenActionItems,
  recall: recallItems,
};

/**
 * Every item of every kind the spec yields, kinds in `ITEM_KINDS` order. The caller checks that
 * the spec has rules enough for the kinds it asks for (`requireRules`).
 */
export function generateItems(spec: Spec, seed: number): KnowledgeItem[] {
  const rules = rulesOf(spec);
  const g: Generator = { rules, ids: new Set(rules.map((r) => r.id)), seed };
  return ITEM_KINDS.flatMap((k) =>
    rules.length >= (k === "recall" ? 1 : 2) ? GENERATORS[k](g) : [],
  );
}
