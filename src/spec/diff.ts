import { explanationOf, type Rule, rulesOf, type Spec, sectionsOf, subrulesOf } from "./model.js";

export interface SubruleRef {
  id: string;
  text: string;
}

export interface RuleDiff {
  id: string;
  title: { from: string; to: string } | null;
  subrulesAdded: SubruleRef[];
  subrulesRemoved: SubruleRef[];
  subrulesChanged: { from: SubruleRef; to: SubruleRef }[];
  explanation: { fromWords: number; toWords: number; changed: boolean };
}

/** Two specs aligned by rule id. */
export interface SpecDiff {
  rulesAdded: { id: string; title: string }[];
  rulesRemoved: { id: string; title: string }[];
  rulesChanged: RuleDiff[];
  rulesUnchanged: string[];
  sectionsAdded: string[];
  sectionsRemoved: string[];
  frontMatterChanged: string[];
  /** Prose outside rules (preamble, section prose) differs. */
  proseChanged: boolean;
}

const words = (t: string) => t.split(/\s+/).filter(Boolean);

function similarity(a: string, b: string): number {
  const x = new Set(words(a.toLowerCase()));
  const y = new Set(words(b.toLowerCase()));
  const inter = [...x].filter((w) => y.has(w)).length;
  const union = new Set([...x, ...y]).size;
  return union === 0 ? 1 : inter / union;
}

/** Longest common subsequence of two string lists, as index pairs (the classic DP table). */
function lcs(a: string[], b: string[]): [number, number][] {
  const w = b.length + 1;
  const t = new Int32Array((a.length + 1) * w);
  const at = (i: number, j: number) => t[i * w + j] as number;
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      t[i * w + j] = a[i] === b[j] ? at(i + 1, j + 1) + 1 : Math.max(at(i + 1, j), at(i, j + 1));
    }
  }
  const pairs: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) pairs.push([i++, j++]);
    else if (at(i + 1, j) >= at(i, j + 1)) i++;
    else j++;
  }
  return pairs;
}

function diffRule(a: Rule, b: Rule): RuleDiff {
  const sa = subrulesOf(a).map((s) => ({ id: s.id, text: s.markdown }));
  const sb = subrulesOf(b).map((s) => ({ id: s.id, text: s.markdown }));
  const matched = lcs(
    sa.map((s) => s.text),
    sb.map((s) => s.text),
  );
  const keptA = new Set(matched.map(([i]) => i));
  const keptB = new Set(matched.map(([, j]) => j));
  const removed = sa.filter((_, i) => !keptA.has(i));
  const added = sb.filter((_, j) => !keptB.has(j));
  // An unmatched old subrule and a similar unmatched new one are the same subrule, reworded.
  const changed: RuleDiff["subrulesChanged"] = [];
  for (const from of [...removed]) {
    const k = added.findIndex((to) => similarity(from.text, to.text) >= 0.5);
    if (k < 0) continue;
    const [to] = added.splice(k, 1);
    removed.splice(removed.indexOf(from), 1);
    changed.push({ from, to: to as SubruleRef });
  }
  const ea = explanationOf(a)
    .map((x) => x.markdown)
    .join("\n\n");
  const eb = explanationOf(b)
    .map((x) => x.markdown)
    .join("\n\n");
  return {
    id: a.id,
    title: a.title === b.title ? null : { from: a.title, to: b.title },
    subrulesAdded: added,
    subrulesRemoved: removed,
    subrulesChanged: changed,
    explanation: { fromWords: words(ea).length, toWords: words(eb).length, changed: ea !== eb },
  };
}

const outsideRules = (spec: Spec) =>
  JSON.stringify([
    spec.title,
    spec.body
      .filter((n) => n.kind !== "rule" && n.kind !== "section")
      .map((n) => ("markdown" in n ? n.markdown : "")),
    sectionsOf(spec).map((s) => [
      s.title,
      s.body
        .filter((n) => n.kind !== "rule" && n.kind !== "section")
        .map((n) => ("markdown" in n ? n.markdown : "")),
    ]),
  ]);

export function diffSpecs(a: Spec, b: Spec): SpecDiff {
  const ra = new Map(rulesOf(a).map((r) => [r.id, r]));
  const rb = new Map(rulesOf(b).map((r) => [r.id, r]));
  const diff: SpecDiff = {
    rulesAdded: [...rb.values()]
      .filter((r) => !ra.has(r.id))
      .map((r) => ({ id: r.id, title: r.title })),
    rulesRemoved: [...ra.values()]
      .filter((r) => !rb.has(r.id))
      .map((r) => ({ id: r.id, title: r.title })),
    rulesChanged: [],
    rulesUnchanged: [],
    sectionsAdded: [],
    sectionsRemoved: [],
    frontMatterChanged: [],
    proseChanged: outsideRules(a) !== outsideRules(b),
  };
  for (const [id, rule] of ra) {
    const other = rb.get(id);
    if (!other) continue;
    const d = diffRule(rule, other);
    const same =
      !d.title &&
      !d.subrulesAdded.length &&
      !d.subrulesRemoved.length &&
      !d.subrulesChanged.length &&
      !d.explanation.changed;
    if (same) diff.rulesUnchanged.push(id);
    else diff.rulesChanged.push(d);
  }
  const sa = new Set(sectionsOf(a).map((s) => s.title));
  const sb = new Set(sectionsOf(b).map((s) => s.title));
  diff.sectionsAdded = [...sb].filter((t) => !sa.has(t));
  diff.sectionsRemoved = [...sa].filter((t) => !sb.has(t));
  const keys = new Set([...Object.keys(a.frontMatter), ...Object.keys(b.frontMatter)]);
  diff.frontMatterChanged = [...keys].filter(
    (k) => JSON.stringify(a.frontMatter[k]) !== JSON.stringify(b.frontMatter[k]),
  );
  return diff;
}

/** The diff as terminal text: `+` added, `-` removed, `~` changed. */
export function formatDiff(d: SpecDiff, labels: [string, string]): string {
  const out: string[] = [`--- ${labels[0]}`, `+++ ${labels[1]}`];
  const short = (t: string) =>
    t.length > 100 ? `${t.slice(0, 97).replace(/\s+/g, " ")}...` : t.replace(/\s+/g, " ");
  out.push(
    `rules: ${d.rulesAdded.length} added, ${d.rulesRemoved.length} removed, ${d.rulesChanged.length} changed, ${d.rulesUnchanged.length} unchanged`,
  );
  for (const r of d.rulesRemoved) out.push(`- ${r.id}: ${short(r.title)}`);
  for (const r of d.rulesAdded) out.push(`+ ${r.id}: ${short(r.title)}`);
  for (const r of d.rulesChanged) {
    out.push(`~ ${r.id}`);
    if (r.title) out.push(`    title: "${short(r.title.from)}" → "${short(r.title.to)}"`);
    if (r.explanation.changed)
      out.push(`    explanation: ${r.explanation.fromWords} → ${r.explanation.toWords} words`);
    for (const s of r.subrulesRemoved) out.push(`    - ${s.id}: ${short(s.text)}`);
    for (const s of r.subrulesAdded) out.push(`    + ${s.id}: ${short(s.text)}`);
    for (const s of r.subrulesChanged)
      out.push(`    ~ ${s.from.id} → ${s.to.id}: "${short(s.from.text)}" → "${short(s.to.text)}"`);
  }
  for (const s of d.sectionsRemoved) out.push(`- section "${s}"`);
  for (const s of d.sectionsAdded) out.push(`+ section "${s}"`);
  if (d.proseChanged) out.push("~ prose outside rules (preamble or section text)");
  if (d.frontMatterChanged.length) out.push(`~ front matter: ${d.frontMatterChanged.join(", ")}`);
  return `${out.join("\n")}\n`;
}
