/**
 * Changes values in a YAML file's text while keeping every other byte: comments, key order, flow
 * style, spacing and line folding stay as the file's author (and the project's formatter) wrote
 * them. The yaml library's `Document.toString()` re-renders the whole file instead (flow padding,
 * folded scalars re-wrapped at 80 columns), which is why the new values are spliced into the
 * ranges the parser reports for the nodes they replace.
 */
import { Document, isCollection, isNode, parseDocument } from "yaml";

export type YamlPath = (string | number)[];

/** The replacement text of a value, in the style (flow or block scalar) of the node it replaces. */
function valueText(value: unknown, flow: boolean): string {
  const doc = new Document(value);
  if (flow && isCollection(doc.contents)) doc.contents.flow = true;
  // Flow sequences without inner padding (`[a, b]`), as biome formats them.
  const text = doc.toString({ flowCollectionPadding: false }).trimEnd();
  if (text.includes("\n")) throw new Error("setYamlValues: only one-line values can be spliced in");
  return text;
}

/**
 * The text with each path's value replaced. Every path must name an existing scalar or flow
 * collection (a template's own keys): a missing one is a bug in the caller, not user input.
 */
export function setYamlValues(text: string, edits: [YamlPath, unknown][]): string {
  const doc = parseDocument(text);
  const splices = edits.map(([path, value]) => {
    const node = doc.getIn(path, true);
    if (!isNode(node) || !node.range)
      throw new Error(`setYamlValues: ${path.join(".")} is not in the document`);
    const flow = isCollection(node) ? node.flow === true : true;
    if (isCollection(node) && !flow)
      throw new Error(`setYamlValues: ${path.join(".")} is a block collection`);
    return { start: node.range[0], end: node.range[1], text: valueText(value, flow) };
  });
  // From the end backwards, so the earlier ranges stay valid.
  let out = text;
  for (const s of splices.sort((a, b) => b.start - a.start))
    out = out.slice(0, s.start) + s.text + out.slice(s.end);
  return out;
}
