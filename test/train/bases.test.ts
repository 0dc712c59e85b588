import { describe, expect, it } from "vitest";
import { runCli } from "../helpers.js";

describe("specsci train bases", () => {
  it("lists every family, says which token counts are approximate and which bases are gated", async () => {
    const r = await runCli(["train", "bases"]);
    expect(r.code).toBe(0);
    for (const f of ["qwen2.5", "qwen3", "llama3", "gemma3", "olmo2", "mistral"])
      expect(r.stdout).toMatch(new RegExp(`^${f.replace(".", "\\.")}\\s`, "m"));
    expect(r.stdout).toContain("olmo2: tokens approximated");
    expect(r.stdout).toContain("gemma3: gated on the Hub");
    expect(r.stdout).not.toContain("qwen3: tokens approximated");
  });

  it("prints the registry as JSON, chat templates and memory estimates included", async () => {
    const r = await runCli(["--json", "train", "bases"]);
    expect(r.code).toBe(0);
    const bases = JSON.parse(r.stdout) as {
      family: string;
      chat_template: string;
      tokenizer: { approximate: boolean };
      gated: boolean;
      sizes: { size: string; memory_gib: number }[];
    }[];
    const llama = bases.find((b) => b.family === "llama3");
    expect(llama?.chat_template).toContain("<|start_header_id|>");
    expect(llama?.tokenizer.approximate).toBe(false);
    expect(llama?.gated).toBe(true);
    // 8B: 16.0 GB of bf16 weights alone, so more than 15 GiB.
    expect(llama?.sizes.find((s) => s.size === "8B")?.memory_gib).toBeGreaterThan(15);
    expect(bases.find((b) => b.family === "mistral")?.tokenizer.approximate).toBe(true);
  });
});
