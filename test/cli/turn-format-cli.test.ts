/**
 * An experiment's AFT set is shared by its models: one written in another family's turn format
 * than a base model is refused at plan, naming the recipe setting, before any data is made.
 */
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTempDirs, ROOT, runCli, tempDir } from "../helpers.js";

afterAll(cleanupTempDirs);

const offline = { ANTHROPIC_API_KEY: undefined, OPENAI_API_KEY: undefined };

describe("plan and the base model's turn format", () => {
  it("plans the Llama example with its Llama recipes, and refuses it with the Qwen3 AFT recipe", async () => {
    const cwd = tempDir("specsci-turn-format-");
    cpSync(join(ROOT, "examples"), cwd, { recursive: true });
    const ok = await runCli(["plan", "controlled-generalization.yaml"], { cwd, env: offline });
    expect(ok.code, ok.stderr).toBe(0);
    const text = readFileSync(join(cwd, "controlled-generalization.yaml"), "utf8");
    writeFileSync(
      join(cwd, "qwen-recipe.yaml"),
      text.replace("recipes/aft-llama3.yaml", "recipes/aft.yaml"),
    );
    const refused = await runCli(["plan", "qwen-recipe.yaml"], { cwd, env: offline });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(
      /training\.data\.aft in .*qwen-recipe\.yaml: chat_template qwen3 writes the chat set in another turn format than base model meta-llama\/Llama-3\.1-8B \(llama3\)/,
    );
    expect(refused.stderr).toContain("chat_template: llama3");
  });
});
