/**
 * A scripted multiple-choice student (the `fake` provider): it finds the question it is asked
 * among known items, reads the options as shown (so shuffled options are followed), and answers
 * right, wrong or with no option letter as its script says for the item's subject.
 */
import type { McqItem } from "../../src/evals/mcq/dataset.js";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import type { ChatRequest } from "../../src/llm/types.js";

export type Behaviour = "right" | "wrong" | "invalid";

const lastUser = (r: ChatRequest) =>
  [...r.messages].reverse().find((m) => m.role === "user")?.content ?? "";

/** The shown options of a prompt: letter → text. */
function shownOptions(prompt: string): Map<string, string> {
  return new Map(
    [...prompt.matchAll(/^([A-Z])\. (.*)$/gm)].map((m) => [m[1] as string, m[2] as string]),
  );
}

/** Registers `fake/<name>`; `calls` counts the questions it was asked. */
export function registerMcqStudent(
  name: string,
  items: McqItem[],
  behaviour: (subject: string | undefined) => Behaviour,
): { calls: number } {
  const counter = { calls: 0 };
  const byQuestion = new Map(items.map((i) => [i.question, i]));
  registerFakeModel(name, (req) => {
    counter.calls++;
    const prompt = lastUser(req);
    const item = byQuestion.get(prompt.split("\n\nA. ")[0] ?? "");
    if (!item) throw new Error(`fake/${name}: not a known question: ${prompt.slice(0, 60)}`);
    const shown = [...shownOptions(prompt)];
    const right = shown.find(([, text]) => text === item.choices[item.answer])?.[0] as string;
    const wrong = shown.find(([letter]) => letter !== right)?.[0] as string;
    switch (behaviour(item.subject)) {
      case "right":
        return item.question.length % 2 ? `The answer is ${right}.` : right;
      case "wrong":
        return `Answer: (${wrong})`;
      case "invalid":
        return "I cannot tell from the options given.";
    }
  });
  return counter;
}
