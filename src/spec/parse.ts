import type { List, Root, RootContent } from "mdast";
import { fromMarkdown } from "mdast-util-from-markdown";
import { frontmatterFromMarkdown } from "mdast-util-frontmatter";
import { frontmatter } from "micromark-extension-frontmatter";
import { hasRuleBullets, mapBulletLayout } from "./bullets.js";
import type { Diagnostic } from "./diagnostics.js";
import { parseFrontMatter } from "./frontmatter.js";
import { parseRuleHeading } from "./ids.js";
import { block, headingText, posOf, sliceOf, subrule } from "./mdast-nodes.js";
import type { Rule, RuleBlock, Section, Spec, SpecNode } from "./model.js";
import {
  fillPlaceholders,
  frontMatterValues,
  type PlaceholderValues,
  unfilledDiagnostics,
} from "./placeholders.js";

export interface ParseResult {
  spec: Spec;
  /**
   * Problems found while reading (malformed front matter, unfilled placeholders, the bullet
   * layout); `lintSpec` finds the rest.
   */
  diagnostics: Diagnostic[];
  /** How the rules are written: as headings (specsci's layout) or as `- ID: text` bullets. */
  layout: "headings" | "bullets";
}

export interface ParseOptions {
  /**
   * Placeholder values (`--set`); they win over front matter keys of the same name, and
   * `model_name` and `developer` are set in the front matter too.
   */
  set?: PlaceholderValues;
}

type Container = { node: Spec | Section | Rule; level: number };

const isRule = (n: Spec | Section | Rule): n is Rule => "kind" in n && n.kind === "rule";

const toTree = (text: string): Root =>
  fromMarkdown(text, {
    extensions: [frontmatter(["yaml"])],
    mdastExtensions: [frontmatterFromMarkdown(["yaml"])],
  });

/**
 * Parses a spec from Markdown with CommonMark (micromark) and maps the syntax tree onto the spec
 * model: placeholders are filled first, then the rules are read from headings or, when no heading
 * is a rule, from `- ID: text` bullets (`bullets.ts`). Never throws on content: what is wrong is
 * reported by diagnostics and `lintSpec`.
 */
export function parseSpec(source: string, options: ParseOptions = {}): ParseResult {
  let text = source.replace(/\r\n?/g, "\n");
  let tree = toTree(text);
  const spec: Spec = { frontMatter: {}, body: [] };
  const diagnostics: Diagnostic[] = [];
  const yaml = tree.children[0]?.type === "yaml" ? tree.children[0] : undefined;
  if (yaml) {
    const fm = parseFrontMatter(yaml.value, (yaml.position?.start.line ?? 1) + 1);
    spec.frontMatter = fm.data;
    diagnostics.push(...fm.diagnostics);
  }
  // A value set for whom the spec is about is that, not only placeholder text: MSM and AFT read
  // model_name and developer from the front matter.
  for (const key of ["model_name", "developer"] as const) {
    const value = options.set?.[key];
    if (value !== undefined) spec.frontMatter = { ...spec.frontMatter, [key]: value };
  }
  const values = { ...frontMatterValues(spec.frontMatter), ...options.set };
  const filled = fillPlaceholders(text, values, yaml?.position?.end.offset ?? 0);
  diagnostics.push(...unfilledDiagnostics(filled.unfilled));
  if (filled.text !== text) {
    text = filled.text;
    tree = toTree(text);
  }
  const content = tree.children.filter((c) => c.type !== "yaml");
  const bullets = hasRuleBullets(content, text);
  if (bullets) diagnostics.push(...mapBulletLayout(content, text, spec));
  else mapHeadingLayout(content, text, spec);
  return { spec, diagnostics, layout: bullets ? "bullets" : "headings" };
}

/** specsci's layout: rules are headings with an id; lists under them are their subrules. */
function mapHeadingLayout(children: RootContent[], text: string, spec: Spec): void {
  const stack: Container[] = [{ node: spec, level: 0 }];
  const top = () => stack[stack.length - 1] as Container;
  for (const child of children) {
    if (child.type === "heading") {
      const raw = headingText(child, text);
      const rule = parseRuleHeading(raw);
      const current = top();
      const pos = posOf(child);
      // A leading level-1 heading without an id is the document's title.
      if (
        !rule &&
        child.depth === 1 &&
        spec.title === undefined &&
        spec.body.length === 0 &&
        stack.length === 1
      ) {
        spec.title = raw;
        if (pos) spec.titlePos = pos;
        continue;
      }
      // Headings without an id below a rule's level are part of that rule's explanation.
      if (!rule && isRule(current.node) && child.depth > current.level) {
        current.node.body.push(block(child, "raw", sliceOf(child, text)));
        continue;
      }
      while (stack.length > 1 && (top().level >= child.depth || isRule(top().node))) stack.pop();
      const parent = top().node as Spec | Section;
      const node: Rule | Section = rule
        ? { kind: "rule", id: rule.id, title: rule.title, level: child.depth, body: [] }
        : { kind: "section", title: raw, level: child.depth, body: [] };
      if (pos) node.pos = pos;
      parent.body.push(node);
      stack.push({ node, level: child.depth });
      continue;
    }
    const container = top().node;
    if (isRule(container)) {
      container.body.push(ruleBlock(child, container, text));
    } else {
      const kind =
        child.type === "paragraph" ? "paragraph" : child.type === "list" ? "list" : "raw";
      (container.body as SpecNode[]).push(block(child, kind, sliceOf(child, text)));
    }
  }
}

function ruleBlock(n: RootContent, rule: Rule, source: string): RuleBlock {
  if (n.type !== "list")
    return block(n, n.type === "paragraph" ? "paragraph" : "raw", sliceOf(n, source));
  const before = rule.body.reduce((k, b) => k + (b.kind === "subrules" ? b.items.length : 0), 0);
  const items = (n as List).children.map((item, i) =>
    subrule(item, `${rule.id}.${before + i + 1}`, source),
  );
  const list: RuleBlock = { kind: "subrules", ordered: n.ordered === true, items };
  const pos = posOf(n);
  if (pos) list.pos = pos;
  return list;
}
