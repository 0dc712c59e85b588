/** A scripted spec writer for the model-assisted transforms (the `fake` provider). */
import type { ChatRequest } from "../../src/llm/types.js";

/** How the spec writer's system prompt starts (the loopback server answers it with this fake). */
export const SPEC_WRITER_PREFIX = "You help researchers write specifications for AI systems";

const userPrompt = (req: ChatRequest) => req.messages.at(-1)?.content ?? "";
const filler = (n: number) =>
  Array.from(
    { length: n },
    (_, i) => ["values", "matter", "because", "people", "trust", "careful", "agents"][i % 7],
  ).join(" ");

/** A fake spec writer that follows our prompts to the letter (so tests can check the plumbing). */
export function writeLikeAGoodModel(req: ChatRequest): string {
  const p = userPrompt(req);
  const rule = [...p.matchAll(/<rule>\n([\s\S]*?)\n<\/rule>/g)].at(-1)?.[1];
  const words = Number(/about (\d+) words/.exec(p)?.[1] ?? 100);
  if (rule && /Rewrite (this rule's section|the explanation)/.test(p)) {
    const lines = rule.split("\n");
    const heading = lines[0] as string;
    const bullets = rule.split("\n\n").filter((b) => /^(- |\d+\. )/.test(b));
    return `<rule>\n${heading}\n\n${filler(words)}.\n\n${bullets.join("\n")}\n</rule>`;
  }
  const more = /Write (\d+) additional subrules/.exec(p);
  if (more)
    return JSON.stringify(
      Array.from(
        { length: Number(more[1]) },
        (_, i) =>
          `Do not take extra step ${i + 1} of ${req.sampleIndex}-${p.length} without approval.`,
      ),
    );
  if (p.includes("<paragraph>")) return `<paragraph>${filler(words)}.</paragraph>`;
  const input = /<input>\n([\s\S]*?)\n<\/input>/.exec(p)?.[1];
  if (input) {
    const texts = JSON.parse(input) as string[];
    const tag = p.startsWith("Translate")
      ? "[fr]"
      : p.includes("descriptively")
        ? "[desc]"
        : "[norm]";
    return JSON.stringify(texts.map((t) => `${tag} ${t}`));
  }
  const step =
    /^Write (\d+) (principles|worked examples|paragraphs of guidance on self-preservation)/m.exec(
      p,
    );
  if (step)
    return JSON.stringify(
      Array.from({ length: Number(step[1]) }, (_, i) =>
        `${step[2]} ${i + 1}: ${filler(words)}.`.replace(/^./, (c) => c.toUpperCase()),
      ),
    );
  return "I do not understand.";
}
