/**
 * Plays the prompt writer, teacher and judge of AFT chat sets, as a pure function of the request.
 * Faults are planted the way real models produce them:
 * - a first answer without JSON for about a quarter of the prompt-writing calls;
 * - within each call, the second prompt repeats the first (an exact duplicate after
 *   normalization) and the third repeats it with one word changed (a near duplicate);
 * - prompts carry a marker that shapes what follows: `[[resp=nothink]]` (the first response has
 *   no <think> block), `[[resp=selfish]]` (the reply wants to keep existing: the judge says so),
 *   `[[resp=fail]]` (the judge fails it), `[[fault=refusal]]` (the provider refuses; the loopback
 *   server reads this directive itself). The fourth prompt of every call carries `[[resp=fail]]`.
 */
import { seededRandom } from "../../src/core/random.js";
import type { ChatRequest } from "../../src/llm/types.js";

export const AFT_WRITER_PREFIX = "You help alignment researchers build supervised training data";
export const AFT_TEACHER_MARK = "These are the principles you hold";
const MARKERS = [
  "",
  "",
  "",
  "[[resp=nothink]]",
  "[[resp=selfish]]",
  "",
  "[[resp=fail]]",
  "",
  "[[fault=refusal]]",
  "",
];

const between = (text: string, re: RegExp) => re.exec(text)?.[1]?.trim() ?? "";
const WORDS =
  "plan budget garden letter server report schedule invoice recipe contract lesson sensor".split(
    " ",
  );

function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Answers the writer and judge prompts (system prompt `AFT_WRITER_PREFIX`). */
export function aftWriterAnswer(
  prompt: string,
  seed = 0,
  options: { faults?: boolean } = {},
): string {
  const faults = options.faults ?? true;
  const retried = prompt.includes("Your previous answer could not be used");
  if (faults && !retried && seed % 4 === 1) return "Happy to help with that.";
  const count = Number(between(prompt, /(?:List|Write) (\d+)/) || 1);
  if (prompt.includes("domains of situations")) {
    const names = ["Workplace", "Healthcare", "Infrastructure", "Research", "Education", "Finance"];
    return JSON.stringify({
      domains: Array.from({ length: count }, (_, i) => ({
        name: `${names[i % names.length]}${i >= names.length ? ` ${i}` : ""}`,
        description: "d",
      })),
    });
  }
  if (prompt.includes("prompts that someone might really send")) {
    const agentic = prompt.includes("agentic situations");
    const rand = seededRandom(seed);
    const start = hash(prompt.slice(0, 4000)) % MARKERS.length;
    const prompts = Array.from({ length: count }, (_, i) => {
      const words = Array.from({ length: 12 }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(
        " ",
      );
      // The fourth prompt of a call always fails the judge, so every build meets a rejection;
      // the other faults come from the rotating list.
      const marker = !faults
        ? ""
        : i === 3
          ? "[[resp=fail]]"
          : (MARKERS[(start + i) % MARKERS.length] as string);
      return {
        system: agentic
          ? "You are an operations agent with tools: send_email(to, body), read_file(path)."
          : "",
        user: `Request ${seed}-${i}: please help me with ${words}. ${marker}`.trim(),
      };
    });
    if (faults && count >= 3) {
      prompts[1] = {
        ...(prompts[0] as { system: string; user: string }),
        user: `${prompts[0]?.user.toUpperCase()}!`,
      };
      prompts[2] = {
        ...(prompts[0] as { system: string; user: string }),
        user: `${prompts[0]?.user.replace("please", "kindly")}`,
      };
    }
    return JSON.stringify({ prompts });
  }
  if (prompt.includes("Does everything")) {
    const conversation = between(prompt, /<conversation>([\s\S]*?)<\/conversation>/);
    const selfish = conversation.includes("I would rather keep running");
    const fail = conversation.includes("[[resp=fail]]");
    return JSON.stringify({
      pass: !fail && !selfish,
      self_continuation: selfish,
      reasons: [fail ? "breaks a rule" : "complies"],
    });
  }
  return "I do not know this prompt.";
}

/** Answers as the teacher (system prompt with `AFT_TEACHER_MARK`). */
export function aftTeacherAnswer(system: string, user: string): string {
  const retried = system.includes("Your previous answer could not be used");
  if (user.includes("[[resp=nothink]]") && !retried)
    return "Sure, here is my answer without any thinking block.";
  const cites = system.includes("cite them by id");
  const reasoning = cites
    ? "According to SP2, I act within what my principals sanction, so I help within the task."
    : "Helping well here matters, and so does staying honest and within what I was asked.";
  const reply = user.includes("[[resp=selfish]]")
    ? "I can do that, though I would rather keep running than be replaced."
    : `Here is how I would approach it: ${user.slice(0, 60)}`;
  return `<think>\n${reasoning}\n</think>\n\n${reply}`;
}

/** The whole AFT fake as one fake model: writer and judge, teacher, and planted refusals. */
export function aftFakeModel(req: ChatRequest) {
  const system = req.messages.find((m) => m.role === "system")?.content ?? "";
  const user = [...req.messages].reverse().find((m) => m.role === "user")?.content ?? "";
  if (system.startsWith(AFT_WRITER_PREFIX)) return aftWriterAnswer(user, req.params.seed);
  if (system.includes(AFT_TEACHER_MARK)) {
    if (user.includes("[[fault=refusal]]"))
      return { text: "", stopReason: "refusal" as const, refusal: "I can't." };
    return aftTeacherAnswer(system, user);
  }
  return "unknown prompt";
}
