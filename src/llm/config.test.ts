import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { cleanupTempDirs, ROOT, tempDir } from "../../test/helpers.js";
import { loadConfigFile, parseConfigText } from "../core/config.js";
import { SpecsciError } from "../core/errors.js";
import { LLM_CONFIG_SECTIONS, loadConfig, parseConfig } from "./config.js";

afterAll(cleanupTempDirs);

function errorOf(text: string): string {
  try {
    parseConfig(text, "specsci.yaml");
  } catch (e) {
    expect(e).toBeInstanceOf(SpecsciError);
    return (e as Error).message;
  }
  throw new Error("expected an error");
}

describe("config", () => {
  it("applies documented defaults to an empty file", () => {
    const c = parseConfig("", "specsci.yaml");
    expect(c.defaults.max_tokens).toBe(4096);
    expect(c.defaults.timeout_s).toBe(600);
    expect(c.cache).toBe("on");
    expect(c.endpoints).toEqual({});
  });

  it("reads endpoints, limits and prices", () => {
    const c = parseConfig(
      [
        "endpoints:",
        "  myvllm:",
        "    base_url: http://127.0.0.1:8000/v1",
        "    max_in_flight: 8",
        "prices:",
        "  myvllm/qwen: { input: 0.1, output: 0.2 }",
      ].join("\n"),
      "specsci.yaml",
    );
    expect(c.endpoints.myvllm?.max_in_flight).toBe(8);
    expect(c.prices["myvllm/qwen"]?.output).toBe(0.2);
  });

  it("takes default models per role, checked as model ids", () => {
    const c = parseConfig(
      "defaults: { judge: vllm/judge, target: openai/gpt-5.4-mini, labeller: a/b, generator: c/d }\n",
      "specsci.yaml",
    );
    expect(c.defaults).toMatchObject({
      judge: "vllm/judge",
      target: "openai/gpt-5.4-mini",
      labeller: "a/b",
      generator: "c/d",
    });
    expect(errorOf("defaults:\n  judge: sonnet\n")).toMatch(
      /^specsci\.yaml:2:10: defaults\.judge: model id "sonnet" is not of the form provider\/model/,
    );
  });

  it("names file, line, column and setting for a wrong type", () => {
    expect(errorOf("defaults:\n  max_tokens: lots\n")).toMatch(
      /^specsci\.yaml:2:15: defaults\.max_tokens: .*number/,
    );
  });

  it("takes a PostgreSQL store URL, but never one holding its password", () => {
    expect(parseConfig("store: postgres://team@db.lab:5432/specsci\n", "x").store).toBe(
      "postgres://team@db.lab:5432/specsci",
    );
    const msg = errorOf("store: postgres://team:hunter2@db.lab/specsci\n");
    expect(msg).toMatch(/^specsci\.yaml:1:8: store: holds a password: .*PGPASSWORD/);
    expect(errorOf("store: postgres://db.lab/specsci?password=x\n")).toMatch(/holds a password/);
    expect(errorOf("store: /data/store.db\n")).toMatch(/store: a PostgreSQL URL/);
  });

  it("names an unknown setting and lists the known ones", () => {
    const msg = errorOf("providers:\n  anthropic:\n    max_inflight: 3\n");
    expect(msg).toMatch(/^specsci\.yaml:3:5: providers\.anthropic\.max_inflight: unknown setting/);
    expect(msg).toContain("max_in_flight");
  });

  it("rejects an API key pasted where the env var name belongs", () => {
    expect(
      errorOf("endpoints:\n  t:\n    base_url: https://x.test/v1\n    api_key_env: sk-abc-123\n"),
    ).toMatch(/:4:18: endpoints\.t\.api_key_env: must be the NAME of an environment variable/);
  });

  it("refuses an endpoint named like a built-in provider", () => {
    expect(errorOf("endpoints:\n  fake:\n    base_url: http://127.0.0.1:1/v1\n")).toMatch(
      /endpoints\.fake: .*built-in provider/,
    );
  });

  it("reports YAML syntax errors with a position", () => {
    expect(errorOf("defaults: [unclosed\n")).toMatch(/^specsci\.yaml:\d+:\d+: invalid YAML/);
  });
});

describe("config composition", () => {
  it("core reads the file against whatever sections a module composes, and knows none itself", () => {
    const dir = tempDir();
    const file = join(dir, "specsci.yaml");
    writeFileSync(file, "cache: off\nview:\n  port: 8080\n");
    // A layer above llm that adds a section composes it with the model layer's sections.
    const Composed = z.strictObject({
      ...LLM_CONFIG_SECTIONS,
      view: z.strictObject({ port: z.number().int() }).optional(),
    });
    const { config } = loadConfigFile(Composed, file);
    expect(config.view?.port).toBe(8080);
    expect(config.cache).toBe("off");
    expect(config.defaults.max_tokens).toBe(4096);
    // The model layer's own schema refuses the section it does not own, by position.
    expect(() => loadConfig(file)).toThrow(/specsci\.yaml:2:1: view: unknown setting/);
    expect(() => parseConfigText(Composed, "view: { port: x }\n", file)).toThrow(
      /specsci\.yaml:1:15: view\.port: Invalid input/,
    );
    const coreImports = readdirSync(join(ROOT, "src", "core"))
      .filter((f) => f.endsWith(".ts"))
      .flatMap((f) => [
        ...readFileSync(join(ROOT, "src", "core", f), "utf8").matchAll(/from "(\.\.\/[^"]+)"/g),
      ])
      .map((m) => m[1]);
    expect(coreImports.filter((p) => !p?.startsWith("../../test/"))).toEqual([]);
  });
});
