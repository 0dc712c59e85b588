import type { Diagnostic } from "./diagnostics.js";
import { findReferences, idPrefix } from "./ids.js";
import { type Pos, rulesOf, type Spec, type SpecNode, sectionsOf, subrulesOf } from "./model.js";
import { parseSpec } from "./parse.js";

const START: Pos = { line: 1, column: 1 };

/** Position of `index` within Markdown that starts at `pos` in the file. */
function positionIn(markdown: string, pos: Pos, index: number): Pos {
  const before = markdown.slice(0, index);
  const newlines = before.split("\n").length - 1;
  if (newlines === 0) return { line: pos.line, column: pos.column + index };
  return { line: pos.line + newlines, column: index - before.lastIndexOf("\n") };
}

/**
 * Checks a spec: duplicate ids, references to ids that do not exist, empty rules and subrules,
 * priority entries that name no section, and an empty spec. Front matter problems come from
 * the parser and are passed in.
 */
export function lintSpec(spec: Spec, parseDiagnostics: Diagnostic[] = []): Diagnostic[] {
  const out: Diagnostic[] = [...parseDiagnostics];
  const add = (
    pos: Pos | undefined,
    severity: Diagnostic["severity"],
    code: string,
    message: string,
  ) => out.push({ ...(pos ?? START), severity, code, message });

  const rules = rulesOf(spec);
  const ids = new Map<string, Pos | undefined>();
  for (const rule of rules) {
    if (ids.has(rule.id)) {
      const first = ids.get(rule.id);
      add(
        rule.pos,
        "error",
        "duplicate-id",
        `duplicate rule id ${rule.id} (first at line ${first?.line ?? "?"})`,
      );
    } else ids.set(rule.id, rule.pos);
  }
  const ruleIds = new Set(ids.keys());
  for (const rule of rules) {
    for (const s of subrulesOf(rule)) {
      if (ruleIds.has(s.id))
        add(s.pos, "error", "duplicate-id", `subrule ${s.id} has the same id as a rule`);
      ids.set(s.id, s.pos);
      if (!s.text.trim()) add(s.pos, "error", "empty-subrule", `subrule ${s.id} is empty`);
    }
    const hasBody = rule.body.some((b) =>
      b.kind === "subrules" ? b.items.length > 0 : b.text.trim() !== "",
    );
    if (!rule.title && !hasBody)
      add(
        rule.pos,
        "error",
        "empty-rule",
        `rule ${rule.id} is empty: it has no statement, subrules or explanation`,
      );
    else if (!rule.title)
      add(rule.pos, "warning", "untitled-rule", `rule ${rule.id} has no statement after its id`);
  }

  // References: ids in prose that look like this spec's ids (same letter prefix) but are not defined.
  const prefixes = new Set(rules.map((r) => idPrefix(r.id)));
  const checkText = (markdown: string, pos: Pos | undefined, self?: string) => {
    for (const ref of findReferences(markdown)) {
      if (ref.id === self || ids.has(ref.id) || !prefixes.has(idPrefix(ref.id))) continue;
      add(
        pos ? positionIn(markdown, pos, ref.index) : undefined,
        "error",
        "unknown-reference",
        `reference to ${ref.id}, which this spec does not define`,
      );
    }
  };
  const walk = (nodes: SpecNode[]) => {
    for (const n of nodes) {
      if (n.kind === "section") {
        checkText(n.title, n.pos && { line: n.pos.line, column: n.pos.column + n.level + 1 });
        walk(n.body);
      } else if (n.kind === "rule") {
        checkText(
          n.title,
          n.pos && { line: n.pos.line, column: n.pos.column + n.level + n.id.length + 3 },
          n.id,
        );
        for (const b of n.body) {
          if (b.kind === "subrules") {
            for (const s of b.items)
              checkText(s.markdown, s.pos && { line: s.pos.line, column: s.pos.column + 2 });
          } else checkText(b.markdown, b.pos);
        }
      } else checkText(n.markdown, n.pos);
    }
  };
  walk(spec.body);

  const priority = spec.frontMatter.priority;
  if (Array.isArray(priority)) {
    const titles = new Set(sectionsOf(spec).map((s) => s.title));
    for (const entry of priority) {
      if (typeof entry === "string" && !titles.has(entry)) {
        add(
          START,
          "error",
          "unknown-section",
          `front matter priority names "${entry}", which is not a section title`,
        );
      }
    }
  }
  if (
    rules.length === 0 &&
    spec.body.every(
      (n) => n.kind !== "rule" && (n.kind === "section" ? n.body.length === 0 : !n.text.trim()),
    )
  ) {
    add(START, "error", "empty-spec", "the spec has neither rules nor prose");
  }
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** Parses and lints Markdown text in one step. */
export function lintSource(source: string): Diagnostic[] {
  const { spec, diagnostics } = parseSpec(source);
  return lintSpec(spec, diagnostics);
}
