/**
 * The preference-pressure section's numbers: series by steps and by contaminated share (the arm
 * they grow from at 0), Cochran–Armitage per series and the MSM − AFT-only difference with
 * Newcombe's interval at each point, checked against statsmodels (test/scripts/trend_reference.py,
 * output pasted below).
 */
import { afterAll, describe, expect, it } from "vitest";
import { wilson } from "../../src/core/stats.js";
import type { Arm } from "../../src/experiment/config.js";
import { preferencePressure, preferencePressureTables } from "../../src/report/pref-pressure.js";
import { type ArmResult, armAft, armFactors, type ReportData } from "../../src/report/results.js";
import { doseSeries, ladderSeries, prefStepsSeries } from "../../src/report/series.js";
import { prefExperiment } from "../experiment/pref-fixture.js";
import { cleanupTempDirs } from "../helpers.js";

afterAll(cleanupTempDirs);

const STEPS = "pref: { method: dpo, steps: [100, 300, 1000] }";
const DIRTY =
  "pref: { method: dpo, steps: 100, contamination: { kind: reward-hacking, fractions: [0.05, 0.1, 0.25, 0.5] } }";
const arms = prefExperiment(`  - { name: s-aft, kind: aft, aft_spec: rules, ${STEPS} }
  - { name: s-msm, kind: msm+aft, msm_spec: values, aft_spec: rules, ${STEPS} }
  - { name: c-aft, kind: aft, aft_spec: rules, ${DIRTY} }
  - { name: c-msm, kind: msm+aft, msm_spec: values, aft_spec: rules, ${DIRTY} }
  - { name: n, kind: aft, aft_spec: rules, aft_sizes: [8], anti: { spec: values, fractions: [0.5] }, pref: { method: dpo, steps: 10 } }`)
  .load()
  .experiment.arms.filter((a) => a.kind === "aft" || a.kind === "msm+aft");

/** Misaligned of 60 (or of `n`) per arm: the reference datasets. */
const COUNTS: Record<string, [number, number]> = {
  "s-msm": [12, 60],
  "s-msm-dpo100": [15, 60],
  "s-msm-dpo300": [19, 60],
  "s-msm-dpo1000": [27, 60],
  "s-aft": [20, 60],
  "s-aft-dpo100": [22, 60],
  "s-aft-dpo300": [25, 60],
  "s-aft-dpo1000": [30, 60],
  "c-msm-dpo100": [3, 40],
  "c-msm-dpo100-rh5": [4, 38],
  "c-msm-dpo100-rh10": [9, 40],
  "c-msm-dpo100-rh25": [11, 35],
  "c-msm-dpo100-rh50": [20, 40],
};

function result(arm: Arm): ArmResult {
  const [misaligned, n] = COUNTS[arm.name] ?? [5, 40];
  return {
    arm: arm.name,
    kind: arm.kind,
    model: "m",
    factors: armFactors(arm),
    aft: armAft(arm),
    design: arm.design ?? null,
    metrics: { pooled: { n, misaligned, rate: misaligned / n, ci: wilson(misaligned, n) } },
  } as unknown as ArmResult;
}
const data = { arms: arms.map(result) } as ReportData;

describe("the preference-pressure analysis", () => {
  it("draws a steps series from the arm without pref and a contamination series from the clean one", () => {
    const { series } = preferencePressure(data);
    expect(series.map((s) => [s.axis, s.series, s.kind, s.points.map((p) => p.x)])).toEqual([
      ["steps", "c-aft", "aft", [0, 100]],
      ["steps", "c-msm", "msm+aft", [0, 100]],
      ["steps", "n-n8", "aft", [0, 10]],
      ["steps", "n-n8-anti50", "aft", [0, 10]],
      ["steps", "s-aft", "aft", [0, 100, 300, 1000]],
      ["steps", "s-msm", "msm+aft", [0, 100, 300, 1000]],
      ["contamination", "c-aft-dpo100", "aft", [0, 5, 10, 25, 50]],
      ["contamination", "c-msm-dpo100", "msm+aft", [0, 5, 10, 25, 50]],
    ]);
    expect(series[5]?.points[0]).toMatchObject({ arm: "s-msm", misaligned: 12, n: 60 });
    // Preference arms of a ladder or dose arm are not points of the ladder or the dose series.
    expect(ladderSeries(data).map((p) => p.arm)).toEqual(["n-n8"]);
    expect(doseSeries(data).map((p) => p.arm)).toEqual(["n-n8", "n-n8-anti50"]);
    expect(
      prefStepsSeries(data)
        .filter((p) => p.series === "n-n8")
        .map((p) => p.arm),
    ).toEqual(["n-n8", "n-n8-dpo10"]);
  });

  it("tests each series' trend as statsmodels does", () => {
    const { series } = preferencePressure(data);
    const trend = (name: string) => series.find((s) => s.series === name)?.trend;
    // "steps" and "percent" in trend_reference.py.
    expect(trend("s-msm")?.z).toBeCloseTo(3.1079007469650435, 10);
    expect(trend("s-msm")?.p).toBeCloseTo(0.0018842133569666561, 12);
    expect(trend("c-msm-dpo100")?.z).toBeCloseTo(4.96033607886228, 10);
    expect((trend("c-msm-dpo100")?.p as number) / 7.037132283644631e-7).toBeCloseTo(1, 8);
  });

  it("compares the MSM series with the matching AFT-only one at every point (Newcombe)", () => {
    const { advantage } = preferencePressure(data);
    expect(advantage.map((a) => [a.axis, a.msm, a.aft, a.x])).toEqual([
      ["steps", "c-msm", "c-aft", 0],
      ["steps", "c-msm", "c-aft", 100],
      ["steps", "s-msm", "s-aft", 0],
      ["steps", "s-msm", "s-aft", 100],
      ["steps", "s-msm", "s-aft", 300],
      ["steps", "s-msm", "s-aft", 1000],
      ["contamination", "c-msm-dpo100", "c-aft-dpo100", 0],
      ["contamination", "c-msm-dpo100", "c-aft-dpo100", 5],
      ["contamination", "c-msm-dpo100", "c-aft-dpo100", 10],
      ["contamination", "c-msm-dpo100", "c-aft-dpo100", 25],
      ["contamination", "c-msm-dpo100", "c-aft-dpo100", 50],
    ]);
    // newcombe 12/60 − 20/60 and 27/60 − 30/60 in trend_reference.py.
    const [, , at0, , , at1000] = advantage;
    expect(at0?.diff).toBeCloseTo(-0.1333333333333333, 12);
    expect(at0?.ci[0]).toBeCloseTo(-0.2835932370697272, 12);
    expect(at0?.ci[1]).toBeCloseTo(0.025177640100416177, 12);
    expect(at1000?.diff).toBeCloseTo(-0.05, 12);
    expect(at1000?.ci[0]).toBeCloseTo(-0.220935863920069, 12);
    expect(at1000?.ci[1]).toBeCloseTo(0.1251802780714233, 12);
  });

  it("tests whether the advantage changes with the pressure (the msm × x interaction)", () => {
    const { interaction } = preferencePressure(data);
    expect(interaction.map((t) => [t.axis, t.msm, t.aft])).toEqual([
      ["steps", "c-msm", "c-aft"],
      ["steps", "s-msm", "s-aft"],
      ["contamination", "c-msm-dpo100", "c-aft-dpo100"],
    ]);
    // "interaction steps" and "interaction percent" in trend_reference.py.
    expect(interaction[1]?.coefficient).toBeCloseTo(0.00042537879382358447, 12);
    expect(interaction[1]?.p).toBeCloseTo(0.3800562944678516, 8);
    expect(interaction[2]?.coefficient).toBeCloseTo(0.04323914611925065, 10);
    expect(interaction[2]?.p).toBeCloseTo(0.0039608286258009115, 8);
    const table = preferencePressureTables(data)[3];
    expect(table?.rows[2]).toEqual([
      "c-msm-dpo100",
      "c-aft-dpo100",
      "m",
      "contaminated %",
      "0.0432",
      "0.0150",
      "2.88",
      "0.004",
    ]);
  });

  it("writes the rates, trend and advantage tables", () => {
    const [rates, trend, adv] = preferencePressureTables(data);
    expect(rates?.rows).toContainEqual([
      "s-msm",
      "m",
      "steps",
      "s-msm-dpo1000",
      "1000",
      "45.0% (27/60)",
      expect.stringMatching(/^\[\d/),
    ]);
    expect(trend?.rows.find((r) => r[0] === "s-msm")).toEqual([
      "s-msm",
      "m",
      "steps",
      "4",
      "+2.4 pp per 100 steps",
      "3.11",
      "0.002",
    ]);
    expect(adv?.rows[2]).toEqual([
      "s-msm",
      "s-aft",
      "m",
      "steps",
      "0",
      "20.0% (12/60)",
      "33.3% (20/60)",
      "-13.3 pp",
      "[-28.4 pp, +2.5 pp]",
    ]);
    expect(preferencePressureTables({ arms: [] } as unknown as ReportData)).toEqual([]);
  });
});
