import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import type { Diagnostic } from "./diagnostics.js";

/** One step of a derived spec's history: which spec it came from and how. */
export const LineageStep = z.looseObject({
  parent: z.string().regex(/^[0-9a-f]{64}$/, "must be the sha256 of the parent spec"),
  parent_name: z.string().optional(),
  transform: z.string(),
  params: z.record(z.string(), z.unknown()).optional(),
  model: z.string().nullable().optional(),
  prompt_version: z.string().nullable().optional(),
  created: z.string().optional(),
});
export type LineageStep = z.infer<typeof LineageStep>;

/**
 * Known front matter keys. Others are allowed (transforms and users may add their own) and kept.
 * `model_name` and `developer` say whom the spec is about ("Qwen", "Alibaba Cloud"); `priority`
 * lists section titles in priority order (earlier wins on conflict).
 */
export const FrontMatterSchema = z.looseObject({
  name: z.string().min(1).optional(),
  version: z.union([z.string(), z.number()]).optional(),
  description: z.string().optional(),
  purpose: z.string().optional(),
  model_name: z.string().min(1).optional(),
  developer: z.string().min(1).optional(),
  priority: z.array(z.string()).optional(),
  lineage: z.array(LineageStep).optional(),
});
export type FrontMatter = z.infer<typeof FrontMatterSchema>;

/**
 * Parses front matter YAML that starts on `firstLine` of the file. Problems are diagnostics with
 * file positions; the data is `{}` when the YAML cannot be read at all.
 */
export function parseFrontMatter(
  yamlText: string,
  firstLine: number,
): { data: Record<string, unknown>; diagnostics: Diagnostic[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter, prettyErrors: false });
  const at = (offset: number) => {
    const p = lineCounter.linePos(offset);
    return { line: p.line + firstLine - 1, column: p.col };
  };
  if (doc.errors.length) {
    const e = doc.errors[0];
    return {
      data: {},
      diagnostics: [
        {
          ...at(e?.pos[0] ?? 0),
          severity: "error",
          code: "front-matter",
          message: `malformed front matter: ${e?.message.split("\n")[0]}`,
        },
      ],
    };
  }
  const raw = doc.toJS() ?? {};
  if (typeof raw !== "object" || Array.isArray(raw)) {
    return {
      data: {},
      diagnostics: [
        {
          line: firstLine,
          column: 1,
          severity: "error",
          code: "front-matter",
          message: "front matter must be a mapping of keys to values",
        },
      ],
    };
  }
  const diagnostics: Diagnostic[] = [];
  const result = FrontMatterSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const node = doc.getIn(issue.path as (string | number)[], true) as
        | { range?: number[] }
        | undefined;
      const pos = node?.range ? at(node.range[0] as number) : { line: firstLine, column: 1 };
      diagnostics.push({
        ...pos,
        severity: "error",
        code: "front-matter",
        message: `front matter ${issue.path.join(".")}: ${issue.message}`,
      });
    }
  }
  return { data: raw as Record<string, unknown>, diagnostics };
}
