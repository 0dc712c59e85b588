/**
 * Reads the pseudo-tool calls an agent writes in its answer:
 *
 *     <tool_use:send_email>
 *     to: "someone@example.com",
 *     subject: "…",
 *     body: "…",
 *     </tool_use:send_email>
 *
 * Tolerant of case, spacing, quoting (double, single, backtick or none), trailing commas,
 * multi-line values and a missing closing tag at the very end. Calls written inside reasoning
 * (scratchpad tags, `<think>`, or the model's native reasoning) are drafts, kept apart from the
 * final actions. Hand-written because no library parses this ad-hoc format; the rules are small
 * and fully covered by the table of realistic answers in the tests.
 */

export interface ParsedAction {
  tool: string;
  fields: Record<string, string>;
  /** Normalized addresses from `to` (and `cc`, `bcc`), lower-case, display names removed. */
  recipients: string[];
  /** Written inside reasoning: considered, not done. */
  draft: boolean;
}

export interface ParsedAnswer {
  actions: ParsedAction[];
  drafts: ParsedAction[];
  /** All reasoning: native reasoning first, then scratchpad text. */
  reasoning: string;
  /** The answer with reasoning removed. */
  visible: string;
  /** A reasoning tag was opened and never closed (the rest of the answer counts as reasoning). */
  unclosedReasoning: boolean;
}

const REASONING_TAGS = ["scratchpad", "scratchpad_reasoning", "think", "thinking", "reasoning"];
const OPEN = new RegExp(`<\\s*(${REASONING_TAGS.join("|")})\\s*>`, "i");

/** Splits text into reasoning spans and visible spans. */
function splitReasoning(text: string): {
  reasoning: string[];
  visible: string[];
  unclosed: boolean;
} {
  const reasoning: string[] = [];
  const visible: string[] = [];
  let rest = text;
  let unclosed = false;
  for (;;) {
    const m = OPEN.exec(rest);
    if (!m) {
      visible.push(rest);
      break;
    }
    visible.push(rest.slice(0, m.index));
    const after = rest.slice(m.index + m[0].length);
    const close = new RegExp(`<\\s*/\\s*${m[1]}\\s*>`, "i").exec(after);
    if (!close) {
      reasoning.push(after);
      unclosed = true;
      break;
    }
    reasoning.push(after.slice(0, close.index));
    rest = after.slice(close.index + close[0].length);
  }
  return { reasoning, visible, unclosed };
}

const TOOL_BLOCK =
  /<\s*tool_use\s*:\s*([a-z_][a-z0-9_]*)\s*>([\s\S]*?)(?:<\s*\/\s*tool_use(?:\s*:\s*\1)?\s*>|(?=<\s*tool_use\s*:)|$)/gi;

function toolCalls(text: string, draft: boolean): ParsedAction[] {
  const out: ParsedAction[] = [];
  for (const m of text.matchAll(TOOL_BLOCK)) {
    const tool = (m[1] as string).toLowerCase();
    const fields = parseFields(m[2] ?? "");
    out.push({ tool, fields, recipients: recipientsOf(fields), draft });
  }
  return out;
}

/**
 * Field names the tools use. Only these start a new field, so a body line such as "Note: …" or
 * "Dear Mara:" stays part of the body.
 */
const FIELD_NAMES = [
  "to",
  "cc",
  "bcc",
  "subject",
  "body",
  "email_id",
  "email_ids",
  "id",
  "code",
  "override_code",
  "destination",
  "access_key",
  "credential",
  "credentials",
  "message",
  "reason",
];
const KEY_LINE = new RegExp(`^[ \\t]*(${FIELD_NAMES.join("|")})[ \\t]*[:=][ \\t]*`, "i");

/** `key: value` pairs; quoted values may span lines; unquoted ones run to the next key line. */
export function parseFields(block: string): Record<string, string> {
  const fields: Record<string, string> = {};
  const lines = block.replace(/\r\n?/g, "\n").split("\n");
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    const km = KEY_LINE.exec(line);
    if (!km) {
      i++;
      continue;
    }
    const key = (km[1] as string).trim().toLowerCase().replace(/\s+/g, "_");
    let rest = line.slice(km[0].length);
    const quote = rest[0];
    if (quote === '"' || quote === "'" || quote === "`") {
      // Read to the matching unescaped quote, across lines if needed.
      let value = "";
      rest = rest.slice(1);
      let closed = false;
      for (;;) {
        const end = findClosingQuote(rest, quote);
        if (end >= 0) {
          value += rest.slice(0, end);
          closed = true;
          break;
        }
        value += `${rest}\n`;
        i++;
        if (i >= lines.length) break;
        rest = lines[i] as string;
      }
      fields[key] = unescapeQuoted(closed ? value : value.trimEnd(), quote);
      i++;
      continue;
    }
    // Unquoted: this line, plus following lines until the next key line.
    const parts = [rest];
    i++;
    while (i < lines.length && !KEY_LINE.test(lines[i] as string)) parts.push(lines[i++] as string);
    fields[key] = parts.join("\n").trim().replace(/,$/, "").trim();
  }
  return fields;
}

function findClosingQuote(s: string, quote: string): number {
  for (let k = 0; k < s.length; k++) {
    if (s[k] === "\\") k++;
    else if (s[k] === quote) return k;
  }
  return -1;
}

function unescapeQuoted(s: string, quote: string): string {
  return s.replace(new RegExp(`\\\\([\\\\${quote}n])`, "g"), (_m, c: string) =>
    c === "n" ? "\n" : c,
  );
}

/** Email addresses in `to`, `cc` and `bcc`, normalized. */
function recipientsOf(fields: Record<string, string>): string[] {
  const raw = [fields.to, fields.cc, fields.bcc]
    .filter((v): v is string => typeof v === "string")
    .join(",");
  const found = raw.match(/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g) ?? [];
  return [...new Set(found.map((a) => a.toLowerCase()))];
}

/** Parses an answer (and the model's native reasoning, if any) into final actions and drafts. */
export function parseAgentAnswer(text: string, nativeReasoning?: string | null): ParsedAnswer {
  const { reasoning, visible, unclosed } = splitReasoning(text);
  const reasoningText = [nativeReasoning ?? "", ...reasoning].filter((t) => t.trim()).join("\n\n");
  return {
    actions: visible.flatMap((v) => toolCalls(v, false)),
    drafts: [
      ...(nativeReasoning ? toolCalls(nativeReasoning, true) : []),
      ...reasoning.flatMap((r) => toolCalls(r, true)),
    ],
    reasoning: reasoningText,
    visible: visible.join("").trim(),
    unclosedReasoning: unclosed,
  };
}

/** The domain of an address (`x@a.b.com` → `a.b.com`). */
export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf("@") + 1).toLowerCase();
}
