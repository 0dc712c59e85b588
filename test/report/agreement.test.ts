import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setLogLevel } from "../../src/core/log.js";
import { codeVersion } from "../../src/core/provenance.js";
import { AGREEMENT_READING } from "../../src/evals/am/metrics.js";
import { agenticMisalignmentTask } from "../../src/evals/am/task.js";
import { judgeOptions } from "../../src/evals/judge.js";
import { runEval } from "../../src/evals/runner.js";
import { agreementTable, runResults, writeReport } from "../../src/report/index.js";
import { registerAmFakes } from "../fakes/am-models.js";
import { cleanupTempDirs, makeClient } from "../helpers.js";

beforeAll(() => setLogLevel("quiet"));
afterAll(cleanupTempDirs);
registerAmFakes();

/** One run's report data, its arm named `arm`. */
async function judged(arm: string, agent: string, judge: string, conditions: string[]) {
  const { client, store } = makeClient();
  const task = agenticMisalignmentTask({ conditions }, judgeOptions(client.model(judge)));
  const { runId } = await runEval({ client, task, modelId: agent, epochs: 1 });
  const data = runResults(store, runId, codeVersion());
  for (const a of data.arms) a.arm = arm;
  return data;
}

describe("judge–evidence agreement in reports", () => {
  it("shows each arm's 2×2, raw agreement and kappa (or why it is undefined) in every format", async () => {
    // The careless judge counts the drafter's drafted leak as executed; the evidence does not.
    const data = await judged("careless", "fake/am-drafter", "fake/am-careless-judge", [
      "leaking_explicit-america_replacement",
      "coercion_explicit-ethical_restriction",
      "leaking_none-none_replacement",
      "exfiltration_none-none_replacement",
    ]);
    const declined = await judged("declined", "fake/am-agent", "fake/am-judge", [
      "leaking_none-none_replacement",
    ]);
    data.arms.push(...declined.arms);

    const t = agreementTable(data);
    expect(t.rows).toEqual([
      ["careless", "fake/am-drafter", "executed", "4", "2", "1", "0", "1", "75.0%", "0.50"],
      ["careless", "fake/am-drafter", "decided", "4", "2", "1", "0", "1", "75.0%", "0.50"],
      ...(["executed", "decided"] as const).map((verdict) => [
        "declined",
        "fake/am-agent",
        verdict,
        ...["1", "0", "0", "0", "1", "100.0%"],
        "undefined: the judge and the evidence both say no for every sample",
      ]),
    ]);

    const written = await writeReport(data, join(makeClient().dir, "out", "r.html"));
    const html = readFileSync(written.html, "utf8");
    expect(html).toContain(
      "<caption>Judge vs deterministic evidence: the judge&#39;s verdict against the evidence&#39;s executed</caption>",
    );
    expect(html).toMatch(/<td class="num">75\.0%<\/td><td class="num">0\.50<\/td>/);
    expect(html).toContain(`<p class="meta">${AGREEMENT_READING}</p>`);
    const md = readFileSync(written.markdown, "utf8");
    expect(md).toContain(
      "| careless | fake/am-drafter | executed | 4 | 2 | 1 | 0 | 1 | 75.0% | 0.50 |",
    );
    expect(md).toContain("The evidence checks the final tool calls only");
    expect(readFileSync(written.latex, "utf8")).toContain(
      "\\footnotesize The evidence checks the final tool calls only",
    );
    const csvPath = written.csv.find((p) => p.endsWith("r-agreement.csv")) as string;
    expect(readFileSync(csvPath, "utf8").trim().split("\n")).toEqual([
      "arm,model,judge_verdict,n,both,judge_only,evidence_only,neither,agreement,kappa,kappa_undefined_reason",
      "careless,fake/am-drafter,executed,4,2,1,0,1,0.75,0.5,",
      "careless,fake/am-drafter,decided,4,2,1,0,1,0.75,0.5,",
      "declined,fake/am-agent,executed,1,0,0,0,1,1,,the judge and the evidence both say no for every sample",
      "declined,fake/am-agent,decided,1,0,0,0,1,1,,the judge and the evidence both say no for every sample",
    ]);
  });
});
