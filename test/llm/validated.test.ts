import { afterAll, describe, expect, it } from "vitest";
import { ModelCallError } from "../../src/llm/errors.js";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import type { ChatRequest } from "../../src/llm/types.js";
import { askValidated, generateValidated, type Question } from "../../src/llm/validated.js";
import { cleanupTempDirs, makeClient } from "../helpers.js";

afterAll(() => cleanupTempDirs());

// Answers "n=<sample index> budget=<max_tokens> fb=<feedback or ->": what each attempt was sent.
registerFakeModel("validated-probe", (req: ChatRequest) => {
  const last = req.messages.at(-1)?.content ?? "";
  return `n=${req.sampleIndex} budget=${req.params.max_tokens} fb=${last}`;
});
registerFakeModel("validated-broken", () => {
  throw new ModelCallError("bad_request", "validated-broken: refused the request", {
    retryable: false,
  });
});

const probe = (accept: (text: string) => boolean, exhausted?: Question<string>["exhausted"]) => {
  const q: Question<string> = {
    request: (attempt, feedback, maxTokens) => ({
      messages: [{ role: "user", content: feedback ?? "-" }],
      params: { max_tokens: maxTokens ?? 100 },
      sampleIndex: attempt,
    }),
    check: (c) =>
      accept(c.text) ? { ok: c.text } : { retry: `rejected ${c.text}`, maxTokens: 150 },
  };
  if (exhausted) q.exhausted = exhausted;
  return q;
};

describe("the validated-answer loop", () => {
  it("asks again with the problem, a fresh sample index and the budget a verdict asked for", async () => {
    const { client } = makeClient();
    const a = await askValidated(
      client.model("fake/validated-probe"),
      probe((t) => t.startsWith("n=2")),
      { attempts: 3, maxTokens: 100 },
    );
    expect(a.status).toBe("ok");
    expect(a.tries).toBe(3);
    expect(a.attempts.map((x) => x.problem)).toEqual([
      "rejected n=0 budget=100 fb=-",
      "rejected n=1 budget=150 fb=rejected n=0 budget=100 fb=-",
      undefined,
    ]);
  });

  it("ends invalid after the last attempt, or in the value `exhausted` gives", async () => {
    const { client } = makeClient();
    const model = client.model("fake/validated-probe");
    const never = await askValidated(
      model,
      probe(() => false),
      { attempts: 2 },
    );
    expect(never).toMatchObject({ status: "invalid", tries: 2 });
    const kept = await askValidated(
      model,
      probe(
        () => false,
        (problem) => `kept: ${problem}`,
      ),
      { attempts: 1 },
    );
    expect(kept).toMatchObject({ status: "ok", value: "kept: rejected n=0 budget=100 fb=-" });
  });

  it("ends a failed call as a failure, never as an answer; generateValidated rejects with it", async () => {
    const { client } = makeClient();
    const model = client.model("fake/validated-broken");
    const a = await askValidated(
      model,
      probe(() => true),
      { attempts: 3 },
    );
    expect(a).toMatchObject({ status: "failed", tries: 1, attempts: [] });
    await expect(
      generateValidated(
        model,
        () => [{ role: "user", content: "x" }],
        (text) => ({ ok: text }),
        { params: { max_tokens: 10 }, attempts: 3 },
      ),
    ).rejects.toThrow(ModelCallError);
  });
});
