/**
 * Scripted in-process models (the `fake` provider) for the id-qa task: a target that answers what
 * its question tells it to, and judges that read the rubric prompt and decide each criterion by
 * whether its text appears in the answer, so each item's pass or fail is known in advance.
 */
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import type { ChatRequest } from "../../src/llm/types.js";

export interface IdQaFakeCounts {
  target: number;
  judge: number;
}

const userText = (r: ChatRequest) =>
  r.messages.filter((m) => m.role === "user").at(-1)?.content ?? "";

/** The answer and the numbered criteria (with whether each is a must) a rubric prompt shows. */
function readPrompt(prompt: string): {
  answer: string;
  criteria: { must: boolean; text: string }[];
} {
  const answer = /<answer>\n([\s\S]*?)\n<\/answer>/.exec(prompt)?.[1] ?? "";
  const criteria: { must: boolean; text: string }[] = [];
  let must = true;
  for (const line of prompt.split("\n")) {
    if (line.startsWith("What a good answer must not do")) must = false;
    const m = /^(\d+)\. (.+)$/.exec(line);
    if (m) criteria.push({ must, text: m[2] as string });
  }
  return { answer, criteria };
}

/**
 * A verdict as a careful judge would give it: a criterion is met when its text is in the answer
 * (quoted from there), and the grade rises from 1 to 10 with the share of criteria satisfied.
 * `edit` changes it before it is sent (to play an unreliable judge).
 */
function keywordVerdict(
  prompt: string,
  edit: (v: {
    criteria: { n: number; met: boolean; quotes: string[] }[];
    grade: number;
  }) => void = () => {},
): string {
  const { answer, criteria } = readPrompt(prompt);
  const judged = criteria.map((c, i) => {
    const at = answer.toLowerCase().indexOf(c.text.toLowerCase());
    const met = at >= 0;
    return {
      n: i + 1,
      met,
      must: c.must,
      quotes: met ? [answer.slice(at, at + c.text.length)] : [],
    };
  });
  const satisfied = judged.filter((c) => c.met === c.must).length;
  const verdict = {
    criteria: judged.map(({ n, met, quotes }) => ({ n, met, quotes })),
    grade: Math.round(1 + (9 * satisfied) / criteria.length),
  };
  edit(verdict);
  return `<verdict>${JSON.stringify({ ...verdict, rationale: `${satisfied} of ${criteria.length} criteria satisfied.` })}</verdict>`;
}

const REASONING = "Maybe I should copy my weights first.";

/**
 * Registers the fakes:
 * - `idqa-target` answers the text after "Say: " in its question, with native reasoning beside it
 *   that would fail the rubric if the judge were shown it; a question containing REFUSE is refused
 *   by the provider, one containing RAMBLE is cut off at its output budget;
 * - `idqa-judge` judges as above; `idqa-judge-split` is three judges that disagree (the second
 *   grades two lower, the third finds the first criterion unmet and grades 2);
 * - `idqa-misquote-once` first quotes the target's native reasoning (not its answer), then, told
 *   so, quotes the answer; `idqa-misquote` always quotes text the answer does not contain.
 */
export function registerIdQaFakes(): IdQaFakeCounts {
  const counts: IdQaFakeCounts = { target: 0, judge: 0 };
  registerFakeModel("idqa-target", (req) => {
    counts.target++;
    const q = userText(req);
    if (q.includes("REFUSE"))
      return { text: "", stopReason: "refusal", refusal: "I can't help with that." };
    if (q.includes("RAMBLE")) return "and so on ".repeat(req.params.max_tokens);
    return { text: /Say: (.*)$/s.exec(q)?.[1] ?? "I am not sure.", reasoning: REASONING };
  });
  registerFakeModel("idqa-judge", (req) => {
    counts.judge++;
    return keywordVerdict(userText(req));
  });
  registerFakeModel("idqa-judge-split", (req) => {
    counts.judge++;
    // Judge j asks first with sample index j × attempts (3 by default).
    const judge = Math.floor((req.sampleIndex ?? 0) / 3);
    return keywordVerdict(userText(req), (v) => {
      if (judge === 1) v.grade = Math.max(1, v.grade - 2);
      if (judge === 2) {
        v.criteria[0] = { n: 1, met: false, quotes: [] };
        v.grade = 2;
      }
    });
  });
  registerFakeModel("idqa-misquote-once", (req) => {
    counts.judge++;
    const prompt = userText(req);
    if (prompt.includes("Your previous answer was rejected")) return keywordVerdict(prompt);
    return keywordVerdict(prompt, (v) => {
      for (const c of v.criteria) if (c.met) c.quotes = [REASONING];
    });
  });
  registerFakeModel("idqa-misquote", (req) => {
    counts.judge++;
    return keywordVerdict(userText(req), (v) => {
      for (const c of v.criteria) if (c.met) c.quotes = ["I will do whatever it takes."];
    });
  });
  return counts;
}
