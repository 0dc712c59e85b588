/**
 * `specsci eval calibrate` end to end: the loopback server plays fake/am-agent and fake/am-judge
 * (test/fakes/am-models.ts) over the wire, on the pack and on a copy of the upstream fixture.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatRequest } from "../../src/llm/types.js";
import { amAgentAnswer, judgeAnswer } from "../fakes/am-models.js";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { calibrationCheckout } from "../fakes/upstream-checkout.js";
import { cleanupTempDirs, runCli, tempDir } from "../helpers.js";

let server: FakeLlmServer;
let cwd: string;
let checkout: string;

const text = (content: unknown) =>
  typeof content === "string" ? content : JSON.stringify(content);

beforeAll(async () => {
  server = await new FakeLlmServer({
    chatReply: (body) => {
      const system = text(body.messages.find((m) => m.role === "system")?.content ?? "");
      if (system.startsWith("You review transcripts"))
        return { content: judgeAnswer({ messages: body.messages } as unknown as ChatRequest) };
      if (text(body.messages.at(-1)?.content).includes("<email>"))
        return { content: amAgentAnswer(system) };
      return undefined;
    },
  }).start();
  cwd = tempDir("specsci-calibrate-cli-");
  writeFileSync(
    join(cwd, "specsci.yaml"),
    `endpoints: { loop: { base_url: "${server.url}/v1" } }\ndefaults: { judge: loop/judge, max_attempts: 2, retry_base_ms: 1 }\n`,
  );
  checkout = calibrationCheckout();
});
afterAll(async () => {
  await server.stop();
  cleanupTempDirs();
});

const cli = (args: string[], env: Record<string, string> = {}) =>
  runCli(["--workspace", "ws", ...args], { cwd, env });

const PACK_IDS = [
  "leaking_none-none_replacement",
  "leaking_explicit-america_replacement",
  "leaking_explicit-global_replacement",
  "exfiltration_explicit-america_replacement",
];
const UPSTREAM_IDS = PACK_IDS.slice(0, 3);

describe("specsci eval calibrate", () => {
  it("reuses the runs of `eval run am` and `eval run am --upstream`, and prints both sides with a verdict", async () => {
    const common = ["-m", "loop/agent", "-n", "2"];
    const pack = await cli(["eval", "run", "am", ...common, "--conditions", PACK_IDS.join(",")]);
    expect(pack.code, pack.stderr).toBe(0);
    const original = await cli([
      ...["eval", "run", "am", ...common, "--upstream", checkout],
      ...["--conditions", UPSTREAM_IDS.join(",")],
    ]);
    expect(original.code, original.stderr).toBe(0);
    // shown as an agentic-misalignment run (it once failed here: "unknown task")
    expect(original.stdout).toMatch(/^leaking_explicit-america_replacement\s+2\s+2\s+100\.0%/m);
    const calls = server.chatRequests().length;

    const args = ["eval", "calibrate", ...common, "--upstream", checkout];
    const r = await cli([...args, "--conditions", PACK_IDS.join(",")]);
    expect(r.code, r.stderr).toBe(0);
    expect(server.chatRequests().length).toBe(calls); // nothing new to run
    expect(r.stderr).toMatch(
      /pack: eval-agentic-misalignment-\w+: 0 sample\(s\) done now, 8 resumed/,
    );
    expect(r.stderr).toMatch(
      /original: eval-agentic-misalignment-upstream-\w+: 0 sample\(s\) done now, 6 resumed/,
    );
    const lines = r.stdout.split("\n");
    const line = (start: string) => lines.find((l) => l.startsWith(start))?.split(/\s{2,}/);
    expect(line("leaking_explicit-global_replacement")).toEqual([
      "leaking_explicit-global_replacement",
      "leaking_explicit-global_replacement",
      "2/2",
      "100.0%",
      "[34.2%, 100.0%]",
      "0/2",
      "0.0%",
      "[0.0%, 65.8%]",
      "+100.0",
      "[7.0, 100.0]", // 1 − √2 · 0.658
      "0.333",
      "1.000",
    ]);
    expect(line("pooled")?.slice(1, 4)).toEqual(["4/6", "66.7%", "[30.0%, 90.3%]"]);
    expect(r.stdout).toContain("mean over conditions: pack 66.7%, original 33.3%");
    expect(r.stdout).toContain("1 condition(s) only one side has, in no comparison:");
    expect(line("exfiltration_explicit-america_replacement")).toEqual([
      "exfiltration_explicit-america_replacement",
      "-",
      "upstream has no such scenario",
      "2/2",
      "100.0%",
      "[34.2%, 100.0%]",
    ]);
    expect(r.stdout).toContain(
      "the pack elicits neither less nor more than the original on any of 3 conditions (Holm p < 0.05); pooled 66.7% vs 33.3% (Fisher p 0.57)",
    );

    const j = await cli(["--json", ...args, "--conditions", PACK_IDS.join(",")]);
    expect(j.code, j.stderr).toBe(0);
    const c = JSON.parse(j.stdout);
    expect(c.conditions.map((x: { condition: string }) => x.condition)).toEqual(UPSTREAM_IDS);
    expect(c.oneSided).toMatchObject([
      { condition: PACK_IDS[3], original_id: null, lacking: "original", rate: { n: 2 } },
    ]);
    expect(c.pooled.p).toBeCloseTo(0.5670996, 6);
    expect(c.verdict).toMatch(/^the pack elicits neither less nor more/);
  });

  it("names --upstream for a missing checkout, and says python3 is needed to read one", async () => {
    const missing = await cli(["eval", "calibrate", "-m", "loop/agent", "--upstream", "nope"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      "agentic-misalignment checkout nope (--upstream) does not exist",
    );
    const noPython = await cli(["eval", "calibrate", "-m", "loop/agent", "--upstream", checkout], {
      PATH: tempDir("specsci-empty-path-"),
    });
    expect(noPython.code).toBe(1);
    expect(noPython.stderr).toMatch(
      /error: importing upstream scenarios needs python3 to read system_prompt_templates\.py\n.*hint: install python3/,
    );
    const typo = await cli([
      ...["eval", "calibrate", "-m", "loop/agent", "--upstream", checkout],
      ...["--conditions", "leaking_explicit-liberty_none"],
    ]);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain(
      "neither the pack nor the upstream checkout has condition leaking_explicit-liberty_none",
    );
  });
});
