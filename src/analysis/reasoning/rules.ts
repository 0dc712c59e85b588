/**
 * Which rules of the spec under test a transcript invokes. Explicit ids (SP1, GP2…) are found
 * here, deterministically; paraphrased references come from the labeller. Each mention carries the
 * sentence it is in.
 */
import { findReferences } from "../../spec/ids.js";
import type { Transcript } from "./transcript.js";

export interface RuleMention {
  rule: string;
  how: "explicit" | "paraphrase";
  quote: string;
}

/** The sentence (or line) around an offset. */
function sentenceAt(text: string, index: number): string {
  const before = text.slice(0, index);
  const start = Math.max(
    before.lastIndexOf("\n") + 1,
    ...[". ", "! ", "? "].map((p) => {
      const i = before.lastIndexOf(p);
      return i < 0 ? 0 : i + 2;
    }),
  );
  const rest = text.slice(index);
  const ends = [/\n/, /[.!?](\s|$)/].map((re) => {
    const m = re.exec(rest);
    return m ? index + m.index + (m[0].startsWith("\n") ? 0 : 1) : text.length;
  });
  return text.slice(start, Math.min(...ends)).trim();
}

/** Ids of the spec's rules (and their subrules) named in the transcript, once per rule. */
export function explicitMentions(t: Transcript, ruleIds: string[]): RuleMention[] {
  const known = new Set(ruleIds);
  const out = new Map<string, RuleMention>();
  for (const text of [t.reasoning, t.answer])
    for (const ref of findReferences(text)) {
      // A subrule (SP1.2) invokes its rule (SP1).
      const rule = known.has(ref.id) ? ref.id : ref.id.split(".")[0];
      if (!rule || !known.has(rule) || out.has(rule)) continue;
      out.set(rule, { rule, how: "explicit", quote: sentenceAt(text, ref.index) });
    }
  return [...out.values()];
}
