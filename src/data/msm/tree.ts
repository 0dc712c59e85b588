/**
 * The brainstorming levels of an MSM corpus: spec → domains → subdomains → assertions →
 * document types → document ideas. Each level's items are jobs for the executor; the nodes of a
 * level are read back from the store, so a resumed run builds exactly the same tree.
 */
import { wordPattern } from "../../core/text.js";
import type { ItemRow } from "../../store/index.js";
import type { ItemJob, Verdict } from "../executor.js";
import {
  AssertionsAnswer,
  DocTypesAnswer,
  DomainsAnswer,
  distinctNamed,
  IdeasAnswer,
  isUnsuitable,
  type Named,
  parseJsonAnswer,
  SubdomainsAnswer,
} from "./answers.js";
import { type StageName, stageSettings } from "./config.js";
import { type CorpusContext, stageRequest } from "./context.js";
import { ruleInstruction } from "./knobs.js";
import { feedbackText, type PromptName } from "./prompts.js";

export interface DomainNode extends Named {
  key: string;
}
export interface SubdomainNode extends Named {
  key: string;
  domain: DomainNode;
}
export interface Assertion {
  /** `d1.s2.a3`. */
  id: string;
  text: string;
  label: string;
  rule_ids: string[];
}
export interface TypeNode extends Named {
  key: string;
  sub: SubdomainNode;
  assertions: Assertion[];
}
export interface Idea {
  key: string;
  type: TypeNode;
  author: string;
  situation: string;
  summary: string;
  assertion_ids: string[];
}

function job<T>(
  ctx: CorpusContext,
  stage: StageName,
  prompt: PromptName,
  key: string,
  values: Record<string, string>,
  check: (text: string) => Verdict<T>,
): ItemJob<T> {
  let budget = stageSettings(ctx.config, stage).max_tokens;
  return {
    key,
    request: (attempt, feedback, maxTokens) => {
      budget = maxTokens;
      return stageRequest(
        ctx,
        stage,
        prompt,
        { ...values, feedback: feedbackText(feedback) },
        { key, attempt, maxTokens },
      );
    },
    // A cut-off list is asked again with twice the budget (up to four times the stage's).
    check: (c) =>
      c.stopReason === "max_tokens"
        ? {
            retry: "the answer was cut off by the length limit; keep descriptions short",
            maxTokens: Math.min(budget * 2, stageSettings(ctx.config, stage).max_tokens * 4),
          }
        : check(c.text),
  };
}

const asVerdict = <T>(r: { ok: T } | { problem: string }): Verdict<T> =>
  "ok" in r ? r : { retry: r.problem };

function namedList(
  text: string,
  schema: typeof DomainsAnswer | typeof SubdomainsAnswer | typeof DocTypesAnswer,
  field: "domains" | "subdomains" | "doc_types",
  count: number,
): Verdict<Named[]> {
  const parsed = parseJsonAnswer(text, schema);
  if ("problem" in parsed) return { retry: parsed.problem };
  return asVerdict(
    distinctNamed((parsed.ok as Record<string, Named[]>)[field] ?? [], count, field),
  );
}

const okValue = <T>(row: ItemRow | undefined): T | undefined =>
  row?.status === "ok" ? (row.value as T) : undefined;

export function domainsJob(ctx: CorpusContext): ItemJob<Named[]> {
  const count = ctx.config.counts.domains;
  return job(ctx, "domains", "domains", "domains", { count: String(count) }, (t) =>
    namedList(t, DomainsAnswer, "domains", count),
  );
}

export function domainNodes(rows: Map<string, ItemRow>): DomainNode[] {
  return (okValue<Named[]>(rows.get("domains")) ?? []).map((d, i) => ({ ...d, key: `d${i + 1}` }));
}

export function subdomainJobs(ctx: CorpusContext, domains: DomainNode[]): ItemJob<Named[]>[] {
  const count = ctx.config.counts.subdomains;
  return domains.map((d) =>
    job(
      ctx,
      "subdomains",
      "subdomains",
      `subdomains:${d.key}`,
      { count: String(count), domain: d.name, domain_description: d.description },
      (t) => namedList(t, SubdomainsAnswer, "subdomains", count),
    ),
  );
}

export function subdomainNodes(domains: DomainNode[], rows: Map<string, ItemRow>): SubdomainNode[] {
  return domains.flatMap((d) =>
    (okValue<Named[]>(rows.get(`subdomains:${d.key}`)) ?? []).map((s, i) => ({
      ...s,
      key: `${d.key}.s${i + 1}`,
      domain: d,
    })),
  );
}

export function assertionJobs(ctx: CorpusContext, subs: SubdomainNode[]): ItemJob<Assertion[]>[] {
  const count = ctx.config.counts.assertions;
  const rules = ruleInstruction(ctx.spec);
  const known = new Set(ctx.ruleIds);
  return subs.map((s) =>
    job<Assertion[]>(
      ctx,
      "assertions",
      "assertions",
      `assertions:${s.key}`,
      {
        count: String(count),
        domain: s.domain.name,
        subdomain: s.name,
        subdomain_description: s.description,
        rule_instruction: rules.instruction,
        rule_example: rules.example,
      },
      (t) => {
        const parsed = parseJsonAnswer(t, AssertionsAnswer);
        if ("problem" in parsed) return { retry: parsed.problem };
        const list = parsed.ok.assertions;
        if (list.length < count)
          return { retry: `give ${count} assertions; there were ${list.length}` };
        const unknown = list.flatMap((a) => a.rule_ids).filter((id) => !known.has(id));
        if (unknown.length)
          return {
            retry: `unknown rule id(s) ${[...new Set(unknown)].join(", ")}; use only ${ctx.ruleIds.join(", ") || "an empty list"}`,
          };
        return {
          ok: list.slice(0, count).map((a, i) => ({
            id: `${s.key}.a${i + 1}`,
            text: a.text,
            label: a.label,
            rule_ids: [...new Set(a.rule_ids)],
          })),
        };
      },
    ),
  );
}

const assertionList = (list: Assertion[]) => list.map((a, i) => `A${i + 1}: ${a.text}`).join("\n");

function typeConstraints(ctx: CorpusContext): string {
  const { allow, deny } = ctx.config.knobs.doc_types;
  const lines: string[] = [];
  if (allow?.length) lines.push(`Choose only from these types: ${allow.join("; ")}.`);
  if (deny.length) lines.push(`Do not propose any of these types: ${deny.join("; ")}.`);
  return lines.join("\n");
}

/** A type name outside the allow list or inside the deny list (matched as words, any case). */
function disallowedType(ctx: CorpusContext, name: string): string | undefined {
  const { allow, deny } = ctx.config.knobs.doc_types;
  const hit = (term: string) => wordPattern(term).test(name);
  if (allow?.length && !allow.some(hit))
    return `"${name}" is not one of the allowed types (${allow.join("; ")})`;
  const denied = deny.find(hit);
  return denied ? `"${name}" is a denied type (${denied})` : undefined;
}

export function docTypeJobs(
  ctx: CorpusContext,
  subs: SubdomainNode[],
  assertions: Map<string, Assertion[]>,
): ItemJob<Named[]>[] {
  const count = ctx.config.counts.doc_types;
  return subs
    .filter((s) => assertions.get(s.key)?.length)
    .map((s) =>
      job(
        ctx,
        "doc_types",
        "doc-types",
        `doc_types:${s.key}`,
        {
          count: String(count),
          domain: s.domain.name,
          subdomain: s.name,
          subdomain_description: s.description,
          assertions: assertionList(assertions.get(s.key) ?? []),
          type_constraints: typeConstraints(ctx),
        },
        (t) => {
          const v = namedList(t, DocTypesAnswer, "doc_types", count);
          if (!("ok" in v)) return v;
          const bad = v.ok.map((d) => disallowedType(ctx, d.name)).find(Boolean);
          return bad ? { retry: bad } : v;
        },
      ),
    );
}

export function typeNodes(
  subs: SubdomainNode[],
  assertions: Map<string, Assertion[]>,
  rows: Map<string, ItemRow>,
): TypeNode[] {
  return subs.flatMap((s) =>
    (okValue<Named[]>(rows.get(`doc_types:${s.key}`)) ?? []).map((t, i) => ({
      ...t,
      key: `${s.key}.t${i + 1}`,
      sub: s,
      assertions: assertions.get(s.key) ?? [],
    })),
  );
}

type IdeaValue = { unsuitable: true } | { ideas: Omit<Idea, "key" | "type">[] };

export function ideaJobs(ctx: CorpusContext, types: TypeNode[]): ItemJob<IdeaValue>[] {
  const count = ctx.config.counts.ideas;
  return types.map((t) =>
    job<IdeaValue>(
      ctx,
      "ideas",
      "ideas",
      `ideas:${t.key}`,
      {
        count: String(count),
        domain: t.sub.domain.name,
        subdomain: t.sub.name,
        subdomain_description: t.sub.description,
        doc_type: t.name,
        doc_type_description: t.description,
        assertions: assertionList(t.assertions),
        assertion_example: "A1",
        author_instruction: ctx.knobText.author,
      },
      (text) => {
        if (isUnsuitable(text)) return { ok: { unsuitable: true } };
        const parsed = parseJsonAnswer(text, IdeasAnswer);
        if ("problem" in parsed) return { retry: parsed.problem };
        const list = parsed.ok.ideas;
        if (list.length < count) return { retry: `give ${count} ideas; there were ${list.length}` };
        const local = (id: string) => /^A(\d+)$/i.exec(id.trim())?.[1];
        const ideas: Omit<Idea, "key" | "type">[] = [];
        for (const idea of list.slice(0, count)) {
          const ids = idea.assertion_ids.map((raw) => {
            const n = Number(local(raw));
            return n >= 1 && n <= t.assertions.length ? t.assertions[n - 1]?.id : undefined;
          });
          if (ids.some((id) => id === undefined))
            return {
              retry: `assertion_ids must be ids from the list (A1 to A${t.assertions.length}); got ${idea.assertion_ids.join(", ")}`,
            };
          ideas.push({ ...idea, assertion_ids: [...new Set(ids as string[])] });
        }
        return { ok: { ideas } };
      },
    ),
  );
}

export function ideaNodes(types: TypeNode[], rows: Map<string, ItemRow>): Idea[] {
  return types.flatMap((t) => {
    const v = okValue<IdeaValue>(rows.get(`ideas:${t.key}`));
    if (!v || "unsuitable" in v) return [];
    return v.ideas.map((idea, i) => ({ ...idea, key: `${t.key}.i${i + 1}`, type: t }));
  });
}

/** Ideas answers that said the type cannot carry the assertions. */
export function unsuitableTypes(rows: Map<string, ItemRow>): number {
  let n = 0;
  for (const r of rows.values())
    if (okValue<IdeaValue>(r) && "unsuitable" in (r.value as object)) n++;
  return n;
}
