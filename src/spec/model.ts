/**
 * The typed model of a spec. A spec is a tree: sections (headings without an ID) contain prose,
 * other sections and rules; rules (headings with an ID such as `SP1`) contain their explanation
 * (prose) and their subrules (list items, addressable as `SP1.1`, `SP1.2`, …). Text is kept as the
 * Markdown it was written in, so rendering loses nothing, plus a plain-text form for measuring.
 */

/** 1-based position in the source file. */
export interface Pos {
  line: number;
  column: number;
}

/** Prose or other Markdown outside the rule structure. `list` only occurs outside rules. */
export interface Block {
  kind: "paragraph" | "list" | "raw";
  markdown: string;
  text: string;
  pos?: Pos;
}

export interface Subrule {
  /** `SP1.2`: the rule's id and the item's position among the rule's list items. */
  id: string;
  markdown: string;
  text: string;
  pos?: Pos;
}

/** A list inside a rule: its items are the rule's subrules. */
export interface SubruleList {
  kind: "subrules";
  ordered: boolean;
  items: Subrule[];
  pos?: Pos;
}

export type RuleBlock = Block | SubruleList;

export interface Rule {
  kind: "rule";
  id: string;
  /** The rule's statement: the heading text after the id. */
  title: string;
  level: number;
  body: RuleBlock[];
  pos?: Pos;
}

export interface Section {
  kind: "section";
  title: string;
  level: number;
  body: SpecNode[];
  pos?: Pos;
}

export type SpecNode = Block | Section | Rule;

export interface Spec {
  /** The YAML front matter as written (key order kept); see `frontmatter.ts` for known keys. */
  frontMatter: Record<string, unknown>;
  /** The document title (a leading `#` heading without an id). */
  title?: string;
  titlePos?: Pos;
  body: SpecNode[];
}

/** Every rule, in document order. */
export function rulesOf(spec: Spec): Rule[] {
  const out: Rule[] = [];
  const walk = (nodes: SpecNode[]) => {
    for (const n of nodes) {
      if (n.kind === "rule") out.push(n);
      else if (n.kind === "section") walk(n.body);
    }
  };
  walk(spec.body);
  return out;
}

/** Every section, in document order (nested ones included). */
export function sectionsOf(spec: Spec): Section[] {
  const out: Section[] = [];
  const walk = (nodes: SpecNode[]) => {
    for (const n of nodes) {
      if (n.kind === "section") {
        out.push(n);
        walk(n.body);
      }
    }
  };
  walk(spec.body);
  return out;
}

export function subrulesOf(rule: Rule): Subrule[] {
  return rule.body.flatMap((b) => (b.kind === "subrules" ? b.items : []));
}

/** The explanation of a rule: its prose, without the subrules. */
export function explanationOf(rule: Rule): Block[] {
  return rule.body.filter((b): b is Block => b.kind !== "subrules");
}

/** A copy without source positions, for comparing models. */
export function withoutPositions<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value, (k, v) => (k === "pos" || k === "titlePos" ? undefined : v)),
  );
}
