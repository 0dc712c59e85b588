import type { Heading, List, ListItem, Nodes, RootContent } from "mdast";
import { fromMarkdown } from "mdast-util-from-markdown";
import { frontmatterFromMarkdown } from "mdast-util-frontmatter";
import { toString as plainText } from "mdast-util-to-string";
import { frontmatter } from "micromark-extension-frontmatter";
import type { Diagnostic } from "./diagnostics.js";
import { parseFrontMatter } from "./frontmatter.js";
import { parseRuleHeading } from "./ids.js";
import type { Block, Pos, Rule, RuleBlock, Section, Spec, SpecNode, Subrule } from "./model.js";

export interface ParseResult {
  spec: Spec;
  /** Problems found while reading (malformed front matter); `lintSpec` finds the rest. */
  diagnostics: Diagnostic[];
}

type Container = { node: Spec | Section | Rule; level: number };

const isRule = (n: Spec | Section | Rule): n is Rule => "kind" in n && n.kind === "rule";

const posOf = (n: Nodes): Pos | undefined =>
  n.position ? { line: n.position.start.line, column: n.position.start.column } : undefined;

/**
 * Parses a spec from Markdown with CommonMark (micromark) and maps the syntax tree onto the spec
 * model. Never throws on content: what is wrong is reported by diagnostics and `lintSpec`.
 */
export function parseSpec(source: string): ParseResult {
  const text = source.replace(/\r\n?/g, "\n");
  const tree = fromMarkdown(text, {
    extensions: [frontmatter(["yaml"])],
    mdastExtensions: [frontmatterFromMarkdown(["yaml"])],
  });
  const slice = (n: Nodes) =>
    text.slice(n.position?.start.offset ?? 0, n.position?.end.offset ?? 0);
  const spec: Spec = { frontMatter: {}, body: [] };
  const diagnostics: Diagnostic[] = [];
  const stack: Container[] = [{ node: spec, level: 0 }];
  const top = () => stack[stack.length - 1] as Container;

  for (const child of tree.children) {
    if (child.type === "yaml") {
      const fm = parseFrontMatter(child.value, (child.position?.start.line ?? 1) + 1);
      spec.frontMatter = fm.data;
      diagnostics.push(...fm.diagnostics);
      continue;
    }
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
        current.node.body.push(block(child, "raw", slice(child)));
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
      (container.body as SpecNode[]).push(block(child, kind, slice(child)));
    }
  }
  return { spec, diagnostics };
}

function block(n: RootContent, kind: Block["kind"], markdown: string): Block {
  const b: Block = { kind, markdown, text: plainText(n) };
  const pos = posOf(n);
  if (pos) b.pos = pos;
  return b;
}

function headingText(h: Heading, source: string): string {
  const first = h.children[0];
  const last = h.children[h.children.length - 1];
  if (!first?.position || !last?.position) return "";
  return source.slice(first.position.start.offset, last.position.end.offset).trim();
}

function ruleBlock(n: RootContent, rule: Rule, source: string): RuleBlock {
  if (n.type !== "list") {
    return block(
      n,
      n.type === "paragraph" ? "paragraph" : "raw",
      source.slice(n.position?.start.offset, n.position?.end.offset),
    );
  }
  const before = rule.body.reduce((k, b) => k + (b.kind === "subrules" ? b.items.length : 0), 0);
  const items = (n as List).children.map((item, i) =>
    subrule(item, `${rule.id}.${before + i + 1}`, source),
  );
  const list: RuleBlock = { kind: "subrules", ordered: n.ordered === true, items };
  const pos = posOf(n);
  if (pos) list.pos = pos;
  return list;
}

/**
 * A list item as a subrule. Its Markdown is the item's content with the list indentation removed
 * from continuation lines, so the renderer can indent it again under any marker.
 */
function subrule(item: ListItem, id: string, source: string): Subrule {
  const first = item.children[0];
  const start = first?.position?.start;
  const end = item.position?.end;
  let markdown = "";
  if (start && end) {
    const indent = start.column - 1;
    const lines = source.slice(start.offset, end.offset).split("\n");
    markdown = lines
      .map((line, i) => (i === 0 ? line : line.replace(new RegExp(`^ {0,${indent}}`), "")))
      .join("\n")
      .trimEnd();
  }
  const s: Subrule = { id, markdown, text: plainText(item) };
  const pos = posOf(item);
  if (pos) s.pos = pos;
  return s;
}
