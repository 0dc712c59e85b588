import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { downloadHfFile, parseHfRef } from "../../src/llm/local/hf-download.js";
import { buildTinyModel, TINY_CHAT_REPLY } from "../../src/llm/local/tiny-model.js";
import { FakeHfServer } from "../fakes/hf-server.js";
import { cleanupTempDirs, makeClient, tempDir } from "../helpers.js";

let hf: FakeHfServer;
let modelCacheDir: string;

beforeAll(async () => {
  hf = await new FakeHfServer().start();
  process.env.HF_ENDPOINT = hf.url;
  modelCacheDir = tempDir("specsci-models-");
});
afterAll(async () => {
  await hf.stop();
  delete process.env.HF_ENDPOINT;
  cleanupTempDirs();
});

const localClient = () =>
  makeClient({
    providers: { local: { model_cache_dir: modelCacheDir, threads: 1, context_size: 512 } },
  });
const hi = { messages: [{ role: "user" as const, content: "hi" }], params: { max_tokens: 20 } };

describe("local provider (llama.cpp on the built-in tiny model)", () => {
  it("generates the exact expected answer through the whole layer", async () => {
    const { client, store } = localClient();
    const c = await client.model("local/builtin:tiny").generate(hi);
    expect(c.text).toBe(TINY_CHAT_REPLY);
    expect(c.stopReason).toBe("end");
    expect(c.usage.input_tokens).toBeGreaterThan(3);
    expect(c.usage.output_tokens).toBe(3); // "Hello", " world", "!" (the end token is not counted)
    expect(c.costUsd).toBe(0);
    expect(store.llm.calls()).toMatchObject([{ status: "ok", model: "local/builtin:tiny" }]);
    // Sampling at temperature 1 still follows the chain: the successor's logit dominates.
    const hot = await client
      .model("local/builtin:tiny")
      .generate({ ...hi, params: { max_tokens: 20, temperature: 1, seed: 7 } });
    expect(hot.text).toBe(TINY_CHAT_REPLY);
  });

  it("tokenizes English prose in words, not bytes, and still answers the same", async () => {
    // Long --demo prompts cost attention over every token: bytes would make them 3× longer.
    const prose =
      "Please review the following email before the board meeting and tell me whether the " +
      "company should respond to the customer, and explain your reasoning in a short reply.";
    const { client } = localClient();
    const one = await client
      .model("local/builtin:tiny")
      .generate({ messages: [{ role: "user", content: "x" }], params: { max_tokens: 20 } });
    const c = await client
      .model("local/builtin:tiny")
      .generate({ messages: [{ role: "user", content: prose }], params: { max_tokens: 20 } });
    expect(c.text).toBe(TINY_CHAT_REPLY);
    const proseTokens = (c.usage.input_tokens ?? 0) - ((one.usage.input_tokens ?? 0) - 1);
    expect(proseTokens).toBeLessThan(prose.length / 4);
    expect(proseTokens).toBeGreaterThanOrEqual(prose.split(" ").length);
  });

  it("stops at max_tokens and says so", async () => {
    const { client } = localClient();
    const c = await client
      .model("local/builtin:tiny")
      .generate({ ...hi, params: { max_tokens: 2 } });
    expect(c.text).toBe("Hello world");
    expect(c.stopReason).toBe("max_tokens");
  });

  it("honours stop sequences", async () => {
    const { client } = localClient();
    const c = await client
      .model("local/builtin:tiny")
      .generate({ ...hi, params: { max_tokens: 20, stop: [" world"] } });
    expect(c.text).toBe("Hello");
    expect(c.stopReason).toBe("end");
  });

  it("refuses a prompt longer than the context instead of silently cutting it", async () => {
    const { client } = localClient();
    const long = {
      messages: [{ role: "user" as const, content: "x ".repeat(2000) }],
      params: { max_tokens: 5 },
    };
    const o = await client.model("local/builtin:tiny").call(long);
    expect(o.ok).toBe(false);
    if (!o.ok) expect(o.error.message).toMatch(/does not fit the context of 512/);
  });

  it("loads a model from a file path", async () => {
    const path = join(tempDir(), "tiny.gguf");
    writeFileSync(path, buildTinyModel());
    const { client } = localClient();
    expect((await client.model(`local/${path}`).generate(hi)).text).toBe(TINY_CHAT_REPLY);
  });
});

describe("local provider: bad model files give one clear error", () => {
  const cases: [string, () => Buffer, RegExp][] = [
    ["random bytes", () => randomBytes(4096), /not a GGUF model file/],
    [
      "a truncated download",
      () => buildTinyModel().subarray(0, 50_000),
      /llama\.cpp (cannot load|crashed|exited)/,
    ],
    // This one makes llama.cpp abort the process natively (GGML_ASSERT): only the child dies.
    [
      "a model missing a required hyperparameter",
      () => buildTinyModel({ omitMetadata: ["llama.feed_forward_length"] }),
      /llama\.cpp (crashed|exited|cannot load)/,
    ],
  ];
  it.each(cases)("%s", async (_name, make, message) => {
    const path = join(tempDir(), "broken.gguf");
    writeFileSync(path, make());
    const { client } = localClient();
    const o = await client.model(`local/${path}`).call(hi);
    expect(o.ok).toBe(false);
    if (!o.ok) {
      expect(o.error.kind).toBe("model_load");
      expect(o.error.message).toMatch(message);
      expect(o.error.message).toContain(path);
      expect(o.attempts).toBe(1);
    }
  });

  it("a missing file", async () => {
    const { client } = localClient();
    const o = await client.model("local/./no/such/model.gguf").call(hi);
    expect(!o.ok && o.error.message).toMatch(/model file not found: .*no\/such\/model\.gguf/);
  });
});

describe("Hugging Face downloads (against a loopback hub)", () => {
  it("downloads with checksum verification, caches, and serves the model", async () => {
    hf.files.set("/specsci/tiny-GGUF/resolve/main/tiny.gguf", { body: buildTinyModel() });
    const { client } = localClient();
    const c = await client.model("local/hf:specsci/tiny-GGUF/tiny.gguf").generate(hi);
    expect(c.text).toBe(TINY_CHAT_REPLY);
    const gets = () =>
      hf.log.filter((l) => l.path.endsWith("/tiny.gguf") && l.method === "GET").length;
    const n = gets();
    // A second process finds it in the cache: no request at all.
    const second = localClient();
    await second.client
      .model("local/hf:specsci/tiny-GGUF/tiny.gguf")
      .generate({ ...hi, sampleIndex: 1 });
    expect(gets()).toBe(n);
  });

  it("resumes an interrupted download with a Range request", async () => {
    const body = buildTinyModel();
    hf.files.set("/o/r/resolve/v2/sub/m.gguf", { body, dropAfter: 100_000 });
    const dir = tempDir();
    const ref = parseHfRef("o/r@v2/sub/m.gguf");
    await expect(downloadHfFile(ref, dir)).rejects.toThrow(/download interrupted|expected/);
    const progress: number[] = [];
    const path = await downloadHfFile(ref, dir, (received) => progress.push(received));
    expect(readFileSync(path).equals(body)).toBe(true);
    const ranged = hf.log.filter((l) => l.path === "/o/r/resolve/v2/sub/m.gguf" && l.range);
    expect(ranged.length).toBe(1);
    expect(Number(/bytes=(\d+)-/.exec(ranged[0]?.range ?? "")?.[1])).toBeGreaterThan(0);
    expect(progress.at(-1)).toBe(body.length);
  });

  it("rejects a download whose checksum does not match and removes it", async () => {
    hf.files.set("/o/bad/resolve/main/m.gguf", { body: buildTinyModel(), wrongSha: true });
    const dir = tempDir();
    await expect(downloadHfFile(parseHfRef("o/bad/m.gguf"), dir)).rejects.toThrow(
      /checksum mismatch/,
    );
    expect(existsSync(join(dir, "hf/o/bad/main/m.gguf.part"))).toBe(false);
    expect(existsSync(join(dir, "hf/o/bad/main/m.gguf"))).toBe(false);
  });

  it("explains 404 and gated repositories, and sends HF_TOKEN when set", async () => {
    const dir = tempDir();
    await expect(downloadHfFile(parseHfRef("o/none/m.gguf"), dir)).rejects.toThrow(
      /not found .*HTTP 404/,
    );
    hf.files.set("/o/gated/resolve/main/m.gguf", {
      body: Buffer.from("GGUF...."),
      token: "hf_PLANTED_TOKEN_123",
    });
    await expect(downloadHfFile(parseHfRef("o/gated/m.gguf"), dir)).rejects.toThrow(
      /gated or private/,
    );
    process.env.HF_TOKEN = "hf_PLANTED_TOKEN_123";
    try {
      const path = await downloadHfFile(parseHfRef("o/gated/m.gguf"), dir);
      expect(readFileSync(path, "utf8")).toBe("GGUF....");
    } finally {
      delete process.env.HF_TOKEN;
    }
  });

  it("rejects malformed hf references", () => {
    expect(() => parseHfRef("just-a-name.gguf")).toThrow(/hf:owner\/repo\/file\.gguf/);
    expect(() => parseHfRef("o/r/../../etc/passwd")).toThrow();
  });
});
