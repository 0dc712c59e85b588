/** Syntax-tree nodes (mdast) as pieces of the spec model, shared by both layouts' readers. */
import type { Heading, ListItem, Nodes, RootContent } from "mdast";
import { toString as plainText } from "mdast-util-to-string";
import type { Block, Pos, Subrule } from "./model.js";

export const posOf = (n: Nodes): Pos | undefined =>
  n.position ? { line: n.position.start.line, column: n.position.start.column } : undefined;

/** The source text of a node. */
export const sliceOf = (n: Nodes, source: string): string =>
  source.slice(n.position?.start.offset ?? 0, n.position?.end.offset ?? 0);

/** Drops the first `indent` spaces of every line but the first (the list's indentation). */
export const dedent = (markdown: string, indent: number): string =>
  markdown
    .split("\n")
    .map((line, i) => (i === 0 ? line : line.replace(new RegExp(`^ {0,${indent}}`), "")))
    .join("\n");

export function block(n: RootContent, kind: Block["kind"], markdown: string): Block {
  const b: Block = { kind, markdown, text: plainText(n) };
  const pos = posOf(n);
  if (pos) b.pos = pos;
  return b;
}

export function headingText(h: Heading, source: string): string {
  const first = h.children[0];
  const last = h.children[h.children.length - 1];
  if (!first?.position || !last?.position) return "";
  return source.slice(first.position.start.offset, last.position.end.offset).trim();
}

/**
 * A list item as a subrule. Its Markdown is the item's content with the list indentation removed
 * from continuation lines, so the renderer can indent it again under any marker.
 */
export function subrule(item: ListItem, id: string, source: string): Subrule {
  const first = item.children[0];
  const start = first?.position?.start;
  const end = item.position?.end;
  let markdown = "";
  if (start && end)
    markdown = dedent(source.slice(start.offset, end.offset), start.column - 1).trimEnd();
  const s: Subrule = { id, markdown, text: plainText(item) };
  const pos = posOf(item);
  if (pos) s.pos = pos;
  return s;
}
