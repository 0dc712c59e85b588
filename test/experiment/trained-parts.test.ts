import { type AddressInfo, createServer } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { shortfall } from "../../src/experiment/trained.js";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import { memoryShares, withFreePorts } from "../../src/train/servers.js";
import { cleanupTempDirs, makeClient } from "../helpers.js";

afterAll(cleanupTempDirs);

describe("trained arms: guards", () => {
  it("data short of its target, empty, or with failed calls is not trained on", () => {
    expect(
      shortfall({ selection: { selected: 300, reached: false, target_examples: 1000 } }, "aft"),
    ).toBe("it has 300 example(s), short of its target of 1000");
    expect(shortfall({ selection: { selected: 0 } }, "aft")).toMatch(/empty/);
    expect(shortfall({ selection: { selected: 1000, reached: true } }, "aft")).toBeUndefined();
    expect(
      shortfall(
        { documents: { kept: 9 }, items: { documents: { failedByKind: { call: 2 } } } },
        "msm",
      ),
    ).toMatch(/2 model call\(s\) failed/);
    expect(
      shortfall(
        { documents: { kept: 9 }, budget: { target_tokens: 100, tokens: 50, reached: false } },
        "msm",
      ),
    ).toBe("it has 50 of its 100 tokens");
    expect(
      shortfall({ documents: { kept: 9 }, budget: { target_tokens: null } }, "msm"),
    ).toBeUndefined();
  });

  it("a model's weights are part of the cache key: a retrained model never gets the old answers", async () => {
    let calls = 0;
    registerFakeModel("weights-probe", () => {
      calls++;
      return `answer ${calls}`;
    });
    const { client } = makeClient();
    const request = {
      messages: [{ role: "user" as const, content: "hi" }],
      params: { max_tokens: 10 },
    };
    const a = await client.model("fake/weights-probe", "w1").generate(request);
    const again = await client.model("fake/weights-probe", "w1").generate(request);
    const b = await client.model("fake/weights-probe", "w2").generate(request);
    expect(again.text).toBe(a.text); // cached
    expect(b.text).not.toBe(a.text); // other weights: asked anew
    expect(calls).toBe(2);
  });
});

describe("serving several trained models", () => {
  const plan = (port: number) => ({
    base: "Qwen/Qwen3-8B",
    port,
    command: ["vllm", "serve", "Qwen/Qwen3-8B", "--host", "127.0.0.1", "--port", String(port)],
    models: [],
    parallel: { tensor: 1, pipeline: 1, data: 1, nodes: 1, why: "" },
    sizedAs: "Qwen/Qwen3-8B",
  });

  it("servers sharing a GPU get a share of its memory each (one alone keeps the engine's default)", () => {
    expect(memoryShares([plan(8000)], "vllm")[0]?.command).not.toContain(
      "--gpu-memory-utilization",
    );
    const two = memoryShares([plan(8000), plan(8001)], "vllm");
    expect(two.map((p) => p.command.slice(-2))).toEqual([
      ["--gpu-memory-utilization", "0.45"],
      ["--gpu-memory-utilization", "0.45"],
    ]);
    expect(memoryShares([plan(1), plan(2), plan(3)], "sglang")[0]?.command.slice(-2)).toEqual([
      "--mem-fraction-static",
      "0.30",
    ]);
  });

  it("a port something else listens on is skipped", async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    const port = (busy.address() as AddressInfo).port;
    try {
      const [a, b] = await withFreePorts([plan(port), plan(port + 1)], "127.0.0.1");
      expect(a?.port).not.toBe(port);
      expect(a?.command).toContain(String(a?.port));
      expect(b?.port).not.toBe(a?.port);
    } finally {
      busy.close();
    }
  });
});
