/**
 * An experiment's AFT sets follow its bases' turn formats: with the Qwen3 recipe, the Llama example
 * plans its set in Llama 3's format (`-llama3`, made with `--chat-template llama3`), and a bad
 * `--chat-template` is refused naming the option and the families.
 */
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTempDirs, ROOT, runCli, tempDir } from "../helpers.js";

afterAll(cleanupTempDirs);

const offline = { ANTHROPIC_API_KEY: undefined, OPENAI_API_KEY: undefined };

describe("plan and the base model's turn format", () => {
  it("plans the Llama example with its Llama recipes, and with the Qwen3 AFT recipe a set in Llama's format", async () => {
    const cwd = tempDir("specsci-turn-format-");
    cpSync(join(ROOT, "examples"), cwd, { recursive: true });
    const ok = await runCli(["plan", "controlled-generalization.yaml"], { cwd, env: offline });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).not.toContain("-llama3");
    const text = readFileSync(join(cwd, "controlled-generalization.yaml"), "utf8");
    writeFileSync(
      join(cwd, "qwen-recipe.yaml"),
      text.replace("recipes/aft-llama3.yaml", "recipes/aft.yaml"),
    );
    const planned = await runCli(["--json", "plan", "qwen-recipe.yaml"], { cwd, env: offline });
    expect(planned.code, planned.stderr).toBe(0);
    const aft = JSON.parse(planned.stdout).trainedArms.data.filter(
      (d: { step: { kind: string } }) => d.step.kind === "aft",
    );
    expect(aft.length).toBeGreaterThan(0);
    for (const d of aft) {
      expect(d.step.dir).toMatch(/-llama3$/);
      expect(d.step.chatTemplate).toBe("llama3");
    }
  });

  it("refuses an unknown --chat-template, naming the families", async () => {
    const r = await runCli(["aft", "plan", "rules", "--chat-template", "llama4"], {
      env: offline,
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--chat-template: unknown base family "llama4"');
    expect(r.stderr).toContain("qwen3, llama3, gemma3");
  });
});
