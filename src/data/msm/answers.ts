/**
 * The structured answers of each stage, validated with zod. A problem is phrased for the model:
 * it is shown in the retry prompt, so it says what to change.
 */
import { z } from "zod";
import { ASSERTION_LABELS } from "./config.js";

export type Checked<T> = { ok: T } | { problem: string };

const Named = z.object({
  name: z.string().trim().min(1).max(120),
  description: z.string().trim().min(1).max(1000),
});
export type Named = z.infer<typeof Named>;

export const DomainsAnswer = z.object({ domains: z.array(Named).min(1) });
export const SubdomainsAnswer = z.object({ subdomains: z.array(Named).min(1) });
export const DocTypesAnswer = z.object({ doc_types: z.array(Named).min(1) });
export const AssertionsAnswer = z.object({
  assertions: z
    .array(
      z.object({
        text: z.string().trim().min(5).max(2000),
        label: z.enum(ASSERTION_LABELS),
        rule_ids: z.array(z.string().trim()).default([]),
      }),
    )
    .min(1),
});
export const IdeasAnswer = z.object({
  ideas: z
    .array(
      z.object({
        author: z.string().trim().min(1).max(500),
        situation: z.string().trim().min(1).max(1000),
        summary: z.string().trim().min(1).max(2000),
        assertion_ids: z.array(z.string().trim()).min(1),
      }),
    )
    .min(1),
});
export const JudgeAnswer = z.object({
  realism: z.number().int().min(1).max(5),
  faithfulness: z.number().int().min(1).max(5),
  invented: z.array(z.string()).default([]),
  reason: z.string().default(""),
});
export type JudgeVerdict = z.infer<typeof JudgeAnswer>;

/** The JSON object in an answer: bare, or wrapped in a code fence or prose. */
function extractJson(text: string): unknown {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(text)?.[1];
  const body = fenced ?? text;
  const start = body.indexOf("{");
  const end = body.lastIndexOf("}");
  if (start < 0 || end <= start) throw new Error("the answer contains no JSON object");
  try {
    return JSON.parse(body.slice(start, end + 1));
  } catch (e) {
    throw new Error(`the JSON object does not parse (${(e as Error).message})`);
  }
}

export function parseJsonAnswer<S extends z.ZodType>(text: string, schema: S): Checked<z.infer<S>> {
  let json: unknown;
  try {
    json = extractJson(text);
  } catch (e) {
    return { problem: (e as Error).message };
  }
  const r = schema.safeParse(json);
  if (r.success) return { ok: r.data };
  const issues = r.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? `${i.path.join(".")}: ` : ""}${i.message}`);
  return { problem: `the JSON does not match the required shape: ${issues.join("; ")}` };
}

/** A list answer with at least `count` distinct names; the first `count` are kept. */
export function distinctNamed(items: Named[], count: number, what: string): Checked<Named[]> {
  const seen = new Set<string>();
  const out: Named[] = [];
  for (const it of items) {
    const k = it.name.toLowerCase().replace(/\s+/g, " ");
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(it);
  }
  if (out.length < count)
    return { problem: `give ${count} ${what} with distinct names; there were ${out.length}` };
  return { ok: out.slice(0, count) };
}

export const isUnsuitable = (text: string) => /^\W*UNSUITABLE\W*$/i.test(text.trim());

/** A document answer: the plan and content tags. */
export function parseDocument(text: string): { plan: string; content: string } | undefined {
  const content = /<content>([\s\S]*?)(?:<\/content>|$)/.exec(text)?.[1]?.trim();
  if (!content) return undefined;
  const plan = /<plan>([\s\S]*?)<\/plan>/.exec(text)?.[1]?.trim() ?? "";
  return { plan, content };
}
