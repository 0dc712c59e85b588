import { describe, expect, it } from "vitest";
import { hashValue } from "../core/hash.js";
import { cacheKey } from "./cache.js";
import type { ChatRequest } from "./types.js";

/** How keys were made before they were written out by hand: the generic canonical JSON. */
function genericKey(model: string, identity: Record<string, string>, req: ChatRequest): string {
  const params: Record<string, unknown> = { ...req.params };
  if (req.params.stop?.length === 0) delete params.stop;
  return hashValue({
    v: 1,
    model,
    identity,
    messages: req.messages.map((m) => ({ role: m.role, content: m.content })),
    params,
    sample: req.sampleIndex ?? 0,
  });
}

const cases: [string, Record<string, string>, ChatRequest][] = [
  [
    "loop/m",
    { base_url: "http://127.0.0.1:8000/v1" },
    { messages: [{ role: "user", content: "hello" }], params: { max_tokens: 64 } },
  ],
  [
    "openai/gpt-4.1",
    { weights: "w1", base_url: "https://api.openai.com/v1" },
    {
      messages: [
        { role: "system", content: 'Be "brief".\n' },
        { role: "user", content: "ünïcode ☃ and \u2028" },
      ],
      params: {
        temperature: 0.7,
        max_tokens: 100,
        stop: [],
        seed: 3,
        top_p: 0.9,
        reasoning: { effort: "low", budget_tokens: 10 },
      },
      sampleIndex: 4,
    },
  ],
  [
    "anthropic/claude-sonnet-4-5",
    { base_url: "https://api.anthropic.com" },
    {
      messages: [
        { role: "user", content: "a" },
        { role: "assistant", content: "b" },
        { role: "user", content: "c" },
      ],
      params: { max_tokens: 1, stop: ["x", "y"], top_logprobs: 2, temperature: undefined },
    },
  ],
];

describe("cacheKey", () => {
  it("keeps the keys earlier runs stored their answers under", () => {
    // Computed by the generic canonical-JSON key before it was written out by hand; a changed
    // key would orphan every cached answer.
    expect(cases.map(([m, id, r]) => cacheKey(m, id, r))).toEqual([
      "936f87582709800288d832ec452f688947cd528e782cb2cc489d70662607386e",
      "8a73e44e01802a4b4e0b4a2ec42ebee31210bdfe4cc2f3ef181aea8ec9cbc3f3",
      "df4cdf482a191458a69139799b03771f9ce669043fd9b050797d4ec340cdb241",
    ]);
    for (const [m, id, r] of cases) expect(cacheKey(m, id, r)).toBe(genericKey(m, id, r));
  });

  it("tells apart what a request differs in", () => {
    const [m, id, r] = cases[0] as (typeof cases)[number];
    const base = cacheKey(m, id, r);
    expect(cacheKey("loop/other", id, r)).not.toBe(base);
    expect(cacheKey(m, { base_url: "http://127.0.0.1:8001/v1" }, r)).not.toBe(base);
    expect(cacheKey(m, id, { ...r, sampleIndex: 1 })).not.toBe(base);
    expect(cacheKey(m, id, { ...r, params: { max_tokens: 65 } })).not.toBe(base);
    expect(cacheKey(m, id, { ...r, messages: [{ role: "system", content: "hello" }] })).not.toBe(
      base,
    );
  });
});
