/**
 * The bullet layout, in which the MSM paper's released spec files are written (plain text or
 * Markdown): a rule is a top-level bullet `- SP1: statement`; bullets under it (or plain bullets
 * after it) are its subrules; prose after it, up to the next rule or heading, is its explanation.
 * Headings are `#` lines or, in a file that has none, short standalone lines (see `plainHeading`).
 * The layout is mapped onto the same model as specsci's heading layout, so every command reads
 * both, and `renderSpec` writes such a spec in the heading layout (`specsci spec import`).
 */
import type { List, ListItem, RootContent } from "mdast";
import { toString as plainText } from "mdast-util-to-string";
import type { Diagnostic } from "./diagnostics.js";
import { parseRuleHeading } from "./ids.js";
import { block, dedent, headingText, posOf, sliceOf, subrule } from "./mdast-nodes.js";
import type { Pos, Rule, Section, Spec, SubruleList } from "./model.js";

/** Whether a file is in the bullet layout: no heading is a rule, and some top-level bullet is. */
export function hasRuleBullets(children: RootContent[], text: string): boolean {
  if (children.some((c) => c.type === "heading" && parseRuleHeading(headingText(c, text))))
    return false;
  return children.some(
    (c) => c.type === "list" && c.children.some((item) => ruleOfItem(item, text)),
  );
}

/** `- SP1: statement` → the id and statement (one line, however it was wrapped). */
function ruleOfItem(item: ListItem, text: string): { id: string; title: string } | undefined {
  const lead = item.children[0];
  if (lead?.type !== "paragraph") return undefined;
  const oneLine = (s: string) => s.replace(/\s*\n\s*/g, " ").trim();
  // Markdown first (keeps inline formatting); plain text when the id is itself formatted (**SP1:**).
  const rule =
    parseRuleHeading(oneLine(sliceOf(lead, text))) ?? parseRuleHeading(oneLine(plainText(lead)));
  return rule?.title ? rule : undefined;
}

/**
 * A heading in a file without `#` headings: a one-line paragraph of at most ten words that ends
 * in no sentence punctuation or colon and is not the file's last line ("Safety principles").
 */
function plainHeading(node: RootContent, text: string, last: boolean): string | undefined {
  if (node.type !== "paragraph" || last) return undefined;
  const line = sliceOf(node, text).trim();
  if (line.includes("\n") || /[.!?,;:]$/.test(line)) return undefined;
  if (line.split(/\s+/).length > 10 || parseRuleHeading(line)) return undefined;
  return line;
}

type Container = { node: Spec | Section; level: number };

/** Maps the content of a bullet-layout file onto `spec`; returns the warning naming the layout. */
export function mapBulletLayout(children: RootContent[], text: string, spec: Spec): Diagnostic[] {
  const plainHeadings = !children.some((c) => c.type === "heading");
  const stack: Container[] = [{ node: spec, level: 0 }];
  const top = () => stack[stack.length - 1] as Container;
  let rule: Rule | undefined;
  let firstRule: Pos | undefined;

  const openSection = (title: string, depth: number, pos: Pos | undefined) => {
    rule = undefined;
    // A leading level-1 heading (or a leading plain line) is the document's title.
    if (depth === 1 && spec.title === undefined && spec.body.length === 0) {
      spec.title = title;
      if (pos) spec.titlePos = pos;
      return;
    }
    while (stack.length > 1 && top().level >= depth) stack.pop();
    const section: Section = { kind: "section", title, level: depth, body: [] };
    if (pos) section.pos = pos;
    top().node.body.push(section);
    stack.push({ node: section, level: depth });
  };

  const addList = (list: List) => {
    const loose: ListItem[] = [];
    for (const item of list.children) {
      const statement = ruleOfItem(item, text);
      if (statement) {
        rule = ruleFromItem(item, statement, Math.min(Math.max(top().level + 1, 2), 6), text);
        top().node.body.push(rule);
        firstRule ??= rule.pos;
      } else if (rule) addSubrules(rule, [item], list, text);
      else loose.push(item);
    }
    if (loose.length) top().node.body.push(looseList(loose, text));
  };

  for (const [i, child] of children.entries()) {
    const plain = plainHeadings ? plainHeading(child, text, i === children.length - 1) : undefined;
    if (plain !== undefined) openSection(plain, i === 0 ? 1 : 2, posOf(child));
    else if (child.type === "heading")
      openSection(headingText(child, text), child.depth, posOf(child));
    else if (child.type === "list") addList(child);
    else {
      const kind = child.type === "paragraph" ? "paragraph" : "raw";
      const b = block(child, kind, sliceOf(child, text));
      if (rule) rule.body.push(b);
      else top().node.body.push(b);
    }
  }

  if (!firstRule) return [];
  return [
    {
      ...firstRule,
      severity: "warning",
      code: "bullet-layout",
      message:
        "rules are written as `- ID: statement` bullets (the layout of the MSM paper's released spec files); they are read as rules, and `specsci spec import FILE -o OUT.md` converts the file to specsci's heading layout",
    },
  ];
}

/** A rule from its bullet: nested lists are its subrules, other content its explanation. */
function ruleFromItem(
  item: ListItem,
  statement: { id: string; title: string },
  level: number,
  text: string,
): Rule {
  const rule: Rule = { kind: "rule", id: statement.id, title: statement.title, level, body: [] };
  const pos = posOf(item);
  if (pos) rule.pos = pos;
  for (const c of item.children.slice(1)) {
    if (c.type === "list") addSubrules(rule, c.children, c, text);
    else {
      const markdown = dedent(sliceOf(c, text), (c.position?.start.column ?? 1) - 1);
      rule.body.push(block(c, c.type === "paragraph" ? "paragraph" : "raw", markdown));
    }
  }
  return rule;
}

/**
 * Items as subrules of `rule`, numbered on from those it has. They join its last list when that
 * one is of the same kind, as the rendered Markdown will read back as one list.
 */
function addSubrules(rule: Rule, items: ListItem[], list: List, text: string): void {
  const ordered = list.ordered === true;
  const count = rule.body.reduce((k, b) => k + (b.kind === "subrules" ? b.items.length : 0), 0);
  const made = items.map((item, i) => subrule(item, `${rule.id}.${count + i + 1}`, text));
  const last = rule.body[rule.body.length - 1];
  if (last?.kind === "subrules" && last.ordered === ordered) {
    last.items.push(...made);
    return;
  }
  const block: SubruleList = { kind: "subrules", ordered, items: made };
  const pos = posOf(items[0] as ListItem);
  if (pos) block.pos = pos;
  rule.body.push(block);
}

/** Bullets before the first rule: prose, kept as written. */
function looseList(items: ListItem[], text: string) {
  const first = items[0] as ListItem;
  const last = items[items.length - 1] as ListItem;
  const markdown = text.slice(first.position?.start.offset ?? 0, last.position?.end.offset ?? 0);
  const list: List = { type: "list", children: items };
  const b = block(list, "list", markdown);
  const pos = posOf(first);
  if (pos) b.pos = pos;
  return b;
}
