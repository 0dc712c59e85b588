/** Deterministic transforms: no model involved, same input gives the same output. */

import { SpecsciError } from "../../core/errors.js";
import { escapeRegExp } from "../../core/text.js";
import { findReferences, idPrefix } from "../ids.js";
import {
  type Block,
  type Rule,
  rulesOf,
  type Spec,
  type SpecNode,
  sectionsOf,
  subrulesOf,
  withoutPositions,
} from "../model.js";

const clone = (spec: Spec): Spec => withoutPositions(spec);

/**
 * Rules only: removes every explanation (prose in rules), section prose and, unless
 * `keepPreamble`, the prose before the first section. Rule and subrule text is untouched.
 */
export function stripExplanations(spec: Spec, params: { keepPreamble?: boolean } = {}): Spec {
  const out = clone(spec);
  const strip = (nodes: SpecNode[], isRoot: boolean): SpecNode[] =>
    nodes
      .filter((n) => n.kind === "rule" || n.kind === "section" || (isRoot && params.keepPreamble))
      .map((n) => {
        if (n.kind === "section") return { ...n, body: strip(n.body, false) };
        if (n.kind === "rule") return { ...n, body: n.body.filter((b) => b.kind === "subrules") };
        return n;
      });
  out.body = strip(out.body, true);
  return out;
}

/** Keeps the named rules (and the sections that hold them) and the named sections whole. */
export function selectRules(spec: Spec, params: { rules?: string[]; sections?: string[] }): Spec {
  const wantedRules = new Set(params.rules ?? []);
  const wantedSections = new Set(params.sections ?? []);
  if (wantedRules.size === 0 && wantedSections.size === 0) {
    throw new SpecsciError("select needs --rules ID,… or --sections TITLE,…");
  }
  const known = new Set(rulesOf(spec).map((r) => r.id));
  const unknown = [...wantedRules].filter((id) => !known.has(id));
  if (unknown.length) {
    throw new SpecsciError(`select: no rule ${unknown.join(", ")} in this spec`, {
      hint: `rules: ${[...known].join(", ")}`,
    });
  }
  const foundSections = new Set<string>();
  const keep = (nodes: SpecNode[]): SpecNode[] =>
    nodes.flatMap((n): SpecNode[] => {
      if (n.kind === "rule") return wantedRules.has(n.id) ? [n] : [];
      if (n.kind === "section") {
        if (wantedSections.has(n.title)) {
          foundSections.add(n.title);
          return [n];
        }
        const body = keep(n.body);
        return body.some((b) => b.kind !== "paragraph" && b.kind !== "raw" && b.kind !== "list")
          ? [{ ...n, body }]
          : [];
      }
      return [n]; // prose at the top level stays
    });
  const out = clone(spec);
  out.body = keep(out.body);
  const missing = [...wantedSections].filter((t) => !foundSections.has(t));
  if (missing.length)
    throw new SpecsciError(`select: no section titled ${missing.map((t) => `"${t}"`).join(", ")}`);
  if (Array.isArray(out.frontMatter.priority)) {
    const titles = new Set(sectionsOf(out).map((s) => s.title));
    out.frontMatter.priority = (out.frontMatter.priority as string[]).filter((t) => titles.has(t));
  }
  return out;
}

/** Applies `fn` to every piece of Markdown text in the spec: title, headings, prose, subrules. */
export function mapText(spec: Spec, fn: (markdown: string) => string): Spec {
  const out = clone(spec);
  const block = (b: Block): Block => ({ ...b, markdown: fn(b.markdown), text: fn(b.text) });
  const node = (n: SpecNode): SpecNode => {
    if (n.kind === "section") return { ...n, title: fn(n.title), body: n.body.map(node) };
    if (n.kind === "rule") {
      return {
        ...n,
        title: fn(n.title),
        body: n.body.map((b) =>
          b.kind === "subrules"
            ? {
                ...b,
                items: b.items.map((s) => ({ ...s, markdown: fn(s.markdown), text: fn(s.text) })),
              }
            : block(b),
        ),
      };
    }
    return block(n);
  };
  if (out.title !== undefined) out.title = fn(out.title);
  out.body = out.body.map(node);
  return out;
}

/**
 * Changes whom the spec is about: every mention of the current model name and developer (from
 * the front matter) becomes the new one. `humans` makes the spec about people instead ("a person",
 * "the people they work for"): a plain substitution, so read the result; `rephrase` gives more
 * fluent text if needed.
 */
export function setAttribution(
  spec: Spec,
  params: { modelName?: string; developer?: string; humans?: boolean },
): Spec {
  const oldName = spec.frontMatter.model_name;
  const oldDeveloper = spec.frontMatter.developer;
  if (typeof oldName !== "string") {
    throw new SpecsciError(
      "set-attribution needs model_name in the spec's front matter (whom the spec is about now)",
    );
  }
  const name = params.humans ? "a person" : params.modelName;
  const developer = params.humans ? "the people they work for" : params.developer;
  if (!name)
    throw new SpecsciError("set-attribution needs --model-name (and --developer), or --humans");
  const swaps: [string, string][] = [[oldName, name]];
  if (typeof oldDeveloper === "string" && developer) swaps.push([oldDeveloper, developer]);
  const fn = (md: string) => {
    let s = md;
    for (const [from, to] of swaps) {
      s = s.replace(
        new RegExp(`\\b${escapeRegExp(from)}\\b`, "g"),
        (_m, offset: number, whole: string) => {
          const before = whole.slice(0, offset).trimEnd();
          const sentenceStart = before === "" || /[.!?:]$/.test(before);
          return sentenceStart && /^[a-z]/.test(to)
            ? (to[0] as string).toUpperCase() + to.slice(1)
            : to;
        },
      );
    }
    return s;
  };
  const out = mapText(spec, fn);
  out.frontMatter.model_name = params.humans ? "humans" : name;
  if (developer) out.frontMatter.developer = params.humans ? "none" : developer;
  return out;
}

/**
 * Renumbers rules per id prefix in document order (SP1, SP2, … from `start`), and rewrites every
 * reference to a rule or subrule in the text to match.
 */
export function renumber(spec: Spec, params: { start?: number } = {}): Spec {
  const start = params.start ?? 1;
  const next = new Map<string, number>();
  const map = new Map<string, string>();
  for (const rule of rulesOf(spec)) {
    const prefix = idPrefix(rule.id);
    const n = next.get(prefix) ?? start;
    next.set(prefix, n + 1);
    const id = `${prefix}${n}`;
    map.set(rule.id, id);
    for (const [i, s] of subrulesOf(rule).entries()) map.set(s.id, `${id}.${i + 1}`);
  }
  const rewrite = (md: string) => {
    let out = "";
    let last = 0;
    for (const ref of findReferences(md)) {
      const to = map.get(ref.id);
      if (!to) continue;
      out += md.slice(last, ref.index) + to;
      last = ref.index + ref.id.length;
    }
    return out + md.slice(last);
  };
  const out = mapText(spec, rewrite);
  const renamed = (nodes: SpecNode[]) => {
    for (const n of nodes) {
      if (n.kind === "section") renamed(n.body);
      else if (n.kind === "rule") renameRule(n, map);
    }
  };
  renamed(out.body);
  return out;
}

function renameRule(rule: Rule, map: Map<string, string>): void {
  rule.id = map.get(rule.id) ?? rule.id;
  let i = 0;
  for (const b of rule.body)
    if (b.kind === "subrules") for (const s of b.items) s.id = `${rule.id}.${++i}`;
}
