import { stringify } from "yaml";
import type { Rule, RuleBlock, Spec, SpecNode, SubruleList } from "./model.js";

/**
 * Renders a spec as canonical Markdown: front matter, title, then every node separated by one
 * blank line; rule headings as `ID: title`; subrules as `-` (or numbered) items with continuation
 * lines indented under the marker. `parseSpec(renderSpec(s))` gives back the same model.
 */
export function renderSpec(spec: Spec, options: { frontMatter?: boolean } = {}): string {
  const parts: string[] = [];
  if (options.frontMatter !== false && Object.keys(spec.frontMatter).length > 0) {
    parts.push(`---\n${stringify(spec.frontMatter, { lineWidth: 0 }).trimEnd()}\n---`);
  }
  if (spec.title !== undefined) parts.push(`# ${spec.title}`);
  for (const node of spec.body) parts.push(...renderNode(node));
  return `${parts.join("\n\n")}\n`;
}

/** The spec's text as a model would be shown it: no front matter. */
export function renderSpecBody(spec: Spec): string {
  return renderSpec(spec, { frontMatter: false });
}

function renderNode(node: SpecNode): string[] {
  if (node.kind === "section") {
    return [`${"#".repeat(node.level)} ${node.title}`, ...node.body.flatMap(renderNode)];
  }
  if (node.kind === "rule") return renderRule(node);
  return [node.markdown];
}

export function renderRule(rule: Rule): string[] {
  const heading = `${"#".repeat(rule.level)} ${rule.id}:${rule.title ? ` ${rule.title}` : ""}`;
  return [heading, ...rule.body.map(renderRuleBlock)];
}

function renderRuleBlock(b: RuleBlock): string {
  return b.kind === "subrules" ? renderSubrules(b) : b.markdown;
}

function renderSubrules(list: SubruleList): string {
  return list.items
    .map((item, i) => {
      const marker = list.ordered ? `${i + 1}. ` : "- ";
      const pad = " ".repeat(marker.length);
      const [first = "", ...rest] = item.markdown.split("\n");
      return [marker + first, ...rest.map((l) => (l === "" ? "" : pad + l))].join("\n");
    })
    .join("\n");
}
