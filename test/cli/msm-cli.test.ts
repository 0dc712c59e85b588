import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { BIN, cleanupTempDirs, countRows, runCli, tempDir } from "../helpers.js";

let server: FakeLlmServer;
let cwd: string;

const MSM_YAML = `model: loop/msm-writer
counts: { domains: 3, subdomains: 2, assertions: 3, doc_types: 3, ideas: 6 }
stages: { documents: { max_tokens: 900 } }
gates: { retry_truncated_max_tokens: 3000 }
concurrency: 4
`;

beforeAll(async () => {
  // Latency so that a run lasts long enough to be killed in the middle.
  server = await new FakeLlmServer({ latencyMs: 4, record: false }).start();
  cwd = tempDir("specsci-msm-cli-");
  writeFileSync(
    join(cwd, "specsci.yaml"),
    `endpoints: { loop: { base_url: "${server.url}/v1", max_in_flight: 4 } }\ndefaults: { max_attempts: 2, retry_base_ms: 1 }\nproviders: { local: { context_size: 16384, threads: 1 } }\n`,
  );
  writeFileSync(join(cwd, "msm.yaml"), MSM_YAML);
});
afterAll(async () => {
  await server.stop();
  cleanupTempDirs();
});

const generate = (ws: string, out: string, extra: string[] = []) => [
  "--workspace",
  ws,
  "msm",
  "generate",
  "rules",
  "-r",
  "msm.yaml",
  "-o",
  out,
  ...extra,
];

describe("specsci msm", () => {
  it("plans a corpus before any call", async () => {
    const r = await runCli(
      ["--workspace", "ws-plan", "msm", "plan", "rules", "-r", "msm.yaml", "--json"],
      { cwd },
    );
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.documents.tree).toBe(3 * 2 * 3 * 6);
    expect(plan.stages.map((s: { stage: string }) => s.stage)).toEqual([
      "domains",
      "subdomains",
      "assertions",
      "doc_types",
      "ideas",
      "documents",
    ]);
    const text = await runCli(
      [
        "--workspace",
        "ws-plan",
        "msm",
        "plan",
        "rules",
        "-r",
        "msm.yaml",
        "--target-tokens",
        "200000",
      ],
      { cwd },
    );
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain("for the 200.0k-token budget");
    expect(text.stdout).not.toContain("training purpose");
    // With the training-purpose knob, half the 108 documents' prompts carry its instruction.
    writeFileSync(
      join(cwd, "msm-purpose.yaml"),
      `${MSM_YAML}knobs: { training_purpose: { mode: stated, share: 0.5 } }\n`,
    );
    const purpose = await runCli(
      ["--workspace", "ws-plan", "msm", "plan", "rules", "-r", "msm-purpose.yaml", "--json"],
      { cwd },
    );
    expect(purpose.code, purpose.stderr).toBe(0);
    const stated = JSON.parse(purpose.stdout).stages.find(
      (s: { stage: string }) => s.stage === "documents",
    );
    const plainDocs = plan.stages.find((s: { stage: string }) => s.stage === "documents");
    expect(stated.statingPurpose.calls).toBe(54);
    expect(stated.inputTokens).toBe(plainDocs.inputTokens + stated.statingPurpose.extraInputTokens);
    const line = await runCli(
      ["--workspace", "ws-plan", "msm", "plan", "rules", "-r", "msm-purpose.yaml"],
      { cwd },
    );
    expect(line.stdout).toContain(
      `54 document calls are asked to state the training purpose (knobs.training_purpose); its instruction adds ${(stated.statingPurpose.extraInputTokens / 1000).toFixed(1)}k input tokens, counted above.`,
    );
  });

  it("a generation killed with SIGKILL resumes to the same corpus, with nothing lost or duplicated", async () => {
    // With a budget beyond the first wave, so the kill lands in a later wave.
    const budget = ["--target-tokens", "50000"];
    const ref = await runCli(generate("ws-ref", "ref", budget), { cwd });
    expect(ref.code, ref.stderr).toBe(0);
    expect(ref.stdout).toMatch(/ref: \d+ documents/);
    const servedOnce = new Map(server.served);

    const args = generate("ws-kill", "killed", budget);
    const db = join(cwd, "ws-kill", "store.db");
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: "ignore" });
    const closed = new Promise((r) => child.once("close", r));
    // 34 tree items and 108 first-wave documents come first.
    while (countRows(db, "items") < 150) await new Promise((r) => setTimeout(r, 10));
    child.kill("SIGKILL");
    await closed;
    const atKill = countRows(db, "items");
    const m1 = JSON.parse(readFileSync(join(cwd, "ref", "manifest.json"), "utf8"));
    expect(m1.documents.waves).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(34 + m1.documents.generated + m1.documents.waves);
    expect(existsSync(join(cwd, "killed", "dataset.jsonl"))).toBe(false);

    const again = await runCli(args, { cwd });
    expect(again.code, again.stderr).toBe(0);
    const a = readFileSync(join(cwd, "ref", "dataset.jsonl"), "utf8");
    const b = readFileSync(join(cwd, "killed", "dataset.jsonl"), "utf8");
    expect(b).toBe(a);
    const ids = b
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).id);
    expect(new Set(ids).size).toBe(ids.length);
    // Every prompt of the killed run was answered once, apart from the few in flight at the kill.
    let extra = 0;
    for (const [prompt, n] of server.served) extra += n - 2 * (servedOnce.get(prompt) ?? 0);
    expect(extra).toBeGreaterThanOrEqual(0);
    expect(extra).toBeLessThanOrEqual(4);
    const m2 = JSON.parse(readFileSync(join(cwd, "killed", "manifest.json"), "utf8"));
    for (const k of ["tree", "gates", "dedup", "documents", "budget", "tokens"])
      expect(m2[k]).toEqual(m1[k]);
    expect({ ...m2.stats, file: "" }).toEqual({ ...m1.stats, file: "" });

    const cmp = await runCli(["--workspace", "ws-ref", "msm", "compare", "ref", "killed"], { cwd });
    expect(cmp.code, cmp.stderr).toBe(0);
    expect(cmp.stdout).toContain("matched");
    const stats = await runCli(["--workspace", "ws-ref", "msm", "stats", "ref"], { cwd });
    expect(stats.code, stats.stderr).toBe(0);
    expect(stats.stdout).toMatch(/documents/i);
  });

  it("a model that cannot answer ends with one clear error, after recording its failed items", async () => {
    const r = await runCli(generate("ws-tiny", "tiny", ["--model", "local/builtin:tiny"]), { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("MSM domains: no usable answer from local/builtin:tiny");
    expect(r.stderr).toContain("no JSON object");
    // The hint points at where the answers are, and they are there.
    const file = join("tiny", "failed-items.jsonl");
    expect(r.stderr).toContain(
      `hint: the failed items, with the model's last answer and why it was rejected, are in ${file}`,
    );
    expect(r.stderr).not.toContain("specsci usage");
    const lines = readFileSync(join(cwd, file), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      {
        stage: "domains",
        key: "domains",
        kind: "invalid",
        message: "the answer contains no JSON object",
        attempts: 3,
        answer: "Hello world!",
      },
    ]);
  });

  it("documents from the tiny local model are all gated, and an empty corpus is an error", async () => {
    writeFileSync(
      join(cwd, "tiny-docs.yaml"),
      "model: loop/msm-writer\ncounts: { domains: 2, subdomains: 1, assertions: 2, doc_types: 1, ideas: 2 }\nstages: { documents: { model: local/builtin:tiny, max_tokens: 64 } }\n",
    );
    const r = await runCli(
      [
        "--workspace",
        "ws-tiny-docs",
        "msm",
        "generate",
        "rules",
        "-r",
        "tiny-docs.yaml",
        "-o",
        "tiny-docs",
        "--no-contamination",
      ],
      { cwd },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "the corpus is empty: none of 4 generated document(s) passed (missing_content 4)",
    );
    const m = JSON.parse(readFileSync(join(cwd, "tiny-docs", "manifest.json"), "utf8"));
    expect(m.gates.missing_content).toBe(4);
    expect(m.items.documents.ok).toBe(4);
    expect(m.usage.by_stage.find((u: { stage: string }) => u.stage === "documents").calls).toBe(
      4 * 3,
    );
    expect(readFileSync(join(cwd, "tiny-docs", "dataset.jsonl"), "utf8")).toBe("");
  });

  it("bad input gets one message naming the file and setting", async () => {
    writeFileSync(join(cwd, "bad.yaml"), "model: loop/msm-writer\ncounts:\n  domians: 3\n");
    const r = await runCli(["--workspace", "ws-bad", "msm", "plan", "rules", "-r", "bad.yaml"], {
      cwd,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.yaml:3:3: .*domians/);
    const missing = await runCli(["--workspace", "ws-bad", "msm", "plan", "no-such-spec"], { cwd });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no-such-spec");
    const notCorpus = await runCli(["--workspace", "ws-bad", "msm", "compare", "nowhere", "ref"], {
      cwd,
    });
    expect(notCorpus.code).toBe(1);
    expect(notCorpus.stderr).toContain("nowhere/manifest.json");
  });
});
