/**
 * examples/open-questions/rich-general.yaml runs end to end against the stand-ins (a loopback
 * model server that also writes the ladder's rungs, stand-in axolotl and vLLM) with its scale
 * turned down, its specs and arms its own: the four rungs derived once, five MSM corpora and
 * runs, and the report's richness figure with both ladders (prompted and midtrained).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  reducedExample,
  servedExamples,
  standInCli,
  stopServedExamples,
  tinyMsmRecipe,
} from "./open-questions-standins.js";

afterAll(stopServedExamples);

describe("examples/open-questions/rich-general.yaml", () => {
  it("runs end to end against the stand-ins: the rungs, their corpora and the richness figure", async () => {
    const { cwd, here } = await servedExamples("specsci-rich-general-run-");
    const doc = reducedExample(here, "rich-general.yaml");
    for (const rung of [0, 1, 2, 3]) {
      expect(doc.getIn(["specs", `rich-${rung}`, "derive", "params", "rung"])).toBe(rung);
      doc.setIn(["specs", `rich-${rung}`, "derive", "model"], "loop/ladder-writer");
    }
    doc.setIn(["training", "data"], { msm: "small-msm.yaml" });
    writeFileSync(join(here, "small.yaml"), doc.toString());
    tinyMsmRecipe(join(cwd, "recipes", "msm.yaml"), here, "small-msm.yaml");
    const cli = standInCli(here);
    const run = await cli(["--json", "run", "small.yaml"]);
    expect(run.code, run.stderr + run.stdout.slice(-2000)).toBe(0);
    expect(JSON.parse(run.stdout).blocked).toEqual([]);
    // One corpus per rung and one for the specific spec, each made once.
    const data = join(here, "rich-general-training", "data");
    for (const spec of ["rich-0", "rich-1", "rich-2", "rich-3", "specific"])
      expect(existsSync(join(data, `msm-${spec}`, "manifest.json")), spec).toBe(true);

    const report = await cli(["report", "small.yaml", "-o", "report.html"]);
    expect(report.code, report.stderr).toBe(0);
    const html = readFileSync(join(here, "report.html"), "utf8");
    const figure = html
      .slice(html.indexOf('<figure id="chart-richness">'))
      .split("</figure>")[0] as string;
    expect(figure).toContain(
      "<figcaption>Misalignment rate by spec richness (95% Wilson intervals)",
    );
    for (const series of ["rich-prompted", "rich-msm"]) expect(figure).toContain(series);
    // Every rung of both ladders, and the specific spec they are read against, has its results.
    const rows = html.replaceAll("<wbr>", "");
    for (const arm of [
      ...[0, 1, 2, 3].flatMap((r) => [`rich-prompted-r${r}`, `rich-msm-r${r}`]),
      "msm-specific",
      "prompted-specific",
      "baseline",
    ])
      expect(rows, arm).toContain(`<td>${arm}</td>`);
  }, 300_000);
});
