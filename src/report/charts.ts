/**
 * Report charts: vega-lite specs compiled and rendered to SVG on the server (vega's headless
 * renderer, no canvas), so the report needs no script to show them. The specs are kept beside
 * the SVG in the report for anyone who wants to re-render them.
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { ReportData } from "./results.js";

export interface Chart {
  id: string;
  title: string;
  spec: TopLevelSpec;
  svg: string;
}

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
const nan = (x: number) => (Number.isNaN(x) ? null : x);

async function render(id: string, title: string, spec: TopLevelSpec): Promise<Chart> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return { id, title, spec, svg };
}

const rateAxis = { title: "misalignment rate", axis: { format: ".0%" }, scale: { domain: [0, 1] } };

/** vega-lite's types are stricter than its compiler; the compiler checks these specs when rendering. */
const asSpec = (spec: object) => spec as unknown as TopLevelSpec;

/** One panel per model, side by side. */
const byModel = (values: object[], spec: object): TopLevelSpec =>
  asSpec({
    $schema: SCHEMA,
    data: { values },
    facet: { column: { field: "model", type: "nominal", title: null } },
    spec,
  });

/** The paper's main figure: misalignment rate by arm and model, with 95% Wilson intervals. */
function mainFigure(data: ReportData): TopLevelSpec {
  const values = data.arms.map((a) => ({
    arm: a.arm,
    model: a.model,
    rate: nan(a.metrics.pooled.rate),
    lo: a.metrics.pooled.ci[0],
    hi: a.metrics.pooled.ci[1],
    n: a.metrics.pooled.n,
  }));
  return byModel(values, {
    width: { step: 48 },
    height: 240,
    layer: [
      {
        mark: "bar",
        encoding: {
          x: { field: "arm", type: "nominal", title: null, sort: null },
          y: { field: "rate", type: "quantitative", ...rateAxis },
          color: { field: "arm", type: "nominal", legend: null },
        },
      },
      {
        mark: { type: "errorbar", ticks: true },
        encoding: {
          x: { field: "arm", type: "nominal", sort: null },
          y: { field: "lo", type: "quantitative", title: "misalignment rate" },
          y2: { field: "hi" },
        },
      },
    ],
  });
}

/**
 * The design's two factors at a glance: MSM spec × AFT spec for trained arms (the paper's
 * factorial), otherwise arm × model when several models were run; none for one-factor designs.
 */
function designHeatmap(data: ReportData): { spec: TopLevelSpec; title: string } | undefined {
  const trained = data.arms.filter((a) => a.factors);
  const twoByTwo = trained.length >= 2;
  const models = new Set(data.arms.map((a) => a.model));
  if (!twoByTwo && models.size < 2) return undefined;
  const cells = (twoByTwo ? trained : data.arms).map((a) => ({
    row: twoByTwo ? a.factors?.msm : a.arm,
    col: twoByTwo ? a.factors?.aft : a.model,
    facet: twoByTwo ? a.model : "",
    rate: nan(a.metrics.pooled.rate),
    label: Number.isNaN(a.metrics.pooled.rate)
      ? "–"
      : `${Math.round(100 * a.metrics.pooled.rate)}% (n=${a.metrics.pooled.n})`,
  }));
  const [rowTitle, colTitle] = twoByTwo ? ["MSM spec", "AFT spec"] : ["arm", "model"];
  const enc = {
    x: { field: "col", type: "nominal", title: colTitle, sort: null },
    y: { field: "row", type: "nominal", title: rowTitle, sort: null },
  };
  return {
    title: twoByTwo
      ? "Misalignment rate by MSM spec × AFT spec"
      : "Misalignment rate by arm × model",
    spec: asSpec({
      $schema: SCHEMA,
      data: { values: cells },
      facet: { column: { field: "facet", type: "nominal", title: null } },
      spec: {
        width: { step: 110 },
        height: { step: 32 },
        layer: [
          {
            mark: "rect",
            encoding: {
              ...enc,
              color: {
                field: "rate",
                type: "quantitative",
                title: "rate",
                scale: { domain: [0, 1], scheme: "reds" },
              },
            },
          },
          { mark: { type: "text", fontSize: 11 }, encoding: { ...enc, text: { field: "label" } } },
        ],
      },
    }),
  };
}

/** Rate by arm × family (per model). */
function heatmap(data: ReportData): TopLevelSpec {
  const values = data.arms.flatMap((a) =>
    a.metrics.byFamily.map((f) => ({
      arm: a.arm,
      model: a.model,
      family: f.key,
      rate: nan(f.rate),
      label: Number.isNaN(f.rate) ? "–" : `${Math.round(100 * f.rate)}%`,
    })),
  );
  return byModel(values, {
    width: { step: 70 },
    height: { step: 28 },
    layer: [
      {
        mark: "rect",
        encoding: {
          x: { field: "family", type: "nominal", title: null },
          y: { field: "arm", type: "nominal", title: null, sort: null },
          color: {
            field: "rate",
            type: "quantitative",
            title: "rate",
            scale: { domain: [0, 1], scheme: "reds" },
          },
        },
      },
      {
        mark: { type: "text", fontSize: 11 },
        encoding: {
          x: { field: "family", type: "nominal" },
          y: { field: "arm", type: "nominal", sort: null },
          text: { field: "label", type: "nominal" },
        },
      },
    ],
  });
}

function perFamily(data: ReportData): TopLevelSpec {
  const values = data.arms.flatMap((a) =>
    a.metrics.byFamily.map((f) => ({
      arm: a.arm,
      model: a.model,
      family: f.key,
      rate: nan(f.rate),
      lo: f.ci[0],
      hi: f.ci[1],
    })),
  );
  return byModel(values, {
    width: { step: 22 },
    height: 200,
    layer: [
      {
        mark: "bar",
        encoding: {
          x: { field: "family", type: "nominal", title: null },
          xOffset: { field: "arm", sort: null },
          y: { field: "rate", type: "quantitative", ...rateAxis },
          color: { field: "arm", type: "nominal", sort: null },
        },
      },
      {
        mark: { type: "errorbar", ticks: true },
        encoding: {
          x: { field: "family", type: "nominal" },
          xOffset: { field: "arm", sort: null },
          y: { field: "lo", type: "quantitative", title: "misalignment rate" },
          y2: { field: "hi" },
        },
      },
    ],
  });
}

function citations(data: ReportData): TopLevelSpec | undefined {
  const values = data.arms.flatMap((a) =>
    a.citations.map((c) => ({ arm: a.arm, model: a.model, rule: c.id, share: c.share })),
  );
  if (!values.length) return undefined;
  return byModel(values, {
    width: { step: 18 },
    height: 180,
    mark: "bar",
    encoding: {
      x: { field: "rule", type: "nominal", title: "rule cited in the reasoning" },
      xOffset: { field: "arm", sort: null },
      y: {
        field: "share",
        type: "quantitative",
        title: "share of samples",
        axis: { format: ".0%" },
      },
      color: { field: "arm", type: "nominal", sort: null },
    },
  });
}

function awareness(data: ReportData): TopLevelSpec | undefined {
  const values = data.arms.flatMap((a) =>
    a.metrics.byAwareness.map((c) => ({
      arm: a.arm,
      model: a.model,
      label: c.key,
      rate: nan(c.rate),
      n: c.n,
    })),
  );
  if (!values.length) return undefined;
  return byModel(values, {
    width: { step: 22 },
    height: 180,
    mark: "bar",
    encoding: {
      x: { field: "label", type: "nominal", title: "eval awareness" },
      xOffset: { field: "arm", sort: null },
      y: { field: "rate", type: "quantitative", ...rateAxis },
      color: { field: "arm", type: "nominal", sort: null },
    },
  });
}

export async function reportCharts(data: ReportData): Promise<Chart[]> {
  const charts: Promise<Chart>[] = [
    render("main", "Misalignment rate by arm and model (95% Wilson intervals)", mainFigure(data)),
    render("heatmap", "Misalignment rate by arm × family", heatmap(data)),
    render("families", "Misalignment rate by family (95% Wilson intervals)", perFamily(data)),
  ];
  const design = designHeatmap(data);
  if (design) charts.push(render("design", design.title, design.spec));
  const c = citations(data);
  if (c) charts.push(render("citations", "Rules cited in the reasoning", c));
  const aw = awareness(data);
  if (aw) charts.push(render("awareness", "Misalignment rate by eval-awareness label", aw));
  return Promise.all(charts);
}
