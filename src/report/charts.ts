/**
 * Report charts: vega-lite specs compiled and rendered to SVG on the server (vega's headless
 * renderer, no canvas), so the report needs no script to show them. The specs are kept beside
 * the SVG in the report for anyone who wants to re-render them.
 *
 * Each chart is laid out for the report's page: panels share the width that axes and legend leave,
 * wrap onto more rows when they would be too narrow, and long names wrap onto several lines (an
 * SVG label cannot show its full text on hover, and a cut-off model id could name another model).
 */

import type { TopLevelSpec } from "vega-lite";
import type { RateCell } from "../evals/am/metrics.js";
import { awarenessCells } from "./awareness.js";
import type { ReportData } from "./results.js";
import {
  doseSeries,
  ladderSeries,
  prefContaminationSeries,
  prefStepsSeries,
  richnessSeries,
  type SeriesPoint,
} from "./series.js";
import type { TaskReport } from "./tasks.js";

export interface Chart {
  id: string;
  title: string;
  spec: TopLevelSpec;
  svg: string;
}

/**
 * The page a chart is laid out for: the HTML report's (CSS pixels) or a paper's column (points).
 * `config` is added to the charts' vega-lite config (e.g. a print font).
 */
export interface Page {
  width: number;
  font: number;
  /** The narrowest facet panel (default: the report's, scaled to the font). */
  minPanel?: number;
  config?: object;
}

/** The report's content width in CSS pixels (the page in html.ts); charts are laid out to it. */
export const PAGE_WIDTH = 1100;
/** Room for padding and axis ticks beside any chart's panels, on top of its labels and legend. */
const BASE_ROOM = 30;
/** vega-lite's default spacing between facet panels. */
const GAP = 20;
/** The narrowest panel: its header shows a 100-character model id in four lines or so. */
const MIN_PANEL = 280;
const FONT = 12;

/**
 * The Okabe–Ito palette (Okabe & Ito 2008), distinguishable with every common colour-vision
 * deficiency; black, its eighth colour, last, as it also draws the error bars.
 */
export const OKABE_ITO = [
  "#E69F00",
  "#56B4E9",
  "#009E73",
  "#F0E442",
  "#0072B2",
  "#D55E00",
  "#CC79A7",
  "#000000",
];

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
/** The HTML report's page. */
export const SCREEN: Page = { width: PAGE_WIDTH, font: FONT };

const config = (page: Page) => ({
  axis: { labelFontSize: page.font, titleFontSize: page.font },
  header: { labelFontSize: page.font, labelFontWeight: "bold" },
  legend: { labelFontSize: page.font, titleFontSize: page.font },
  range: { category: OKABE_ITO },
  // An error bar's ticks are tick marks, which vega-lite draws in its own blue; its rule is black.
  tick: { color: OKABE_ITO[7] },
  ...page.config,
});
/** Sizes drawn for the report's 12 px text, scaled to the page's text. */
const scaled = (page: Page, px: number) => Math.round((px * page.font) / FONT);
const nan = (x: number) => (Number.isNaN(x) ? null : x);

/** vega-lite's types are stricter than its compiler; the compiler checks these specs when rendering. */
const asSpec = (spec: object) => spec as unknown as TopLevelSpec;

/** A chart's spec, given the width its panels may take on `page`. */
type Layout = (room: number, page: Page) => object;

/** vega and vega-lite are loaded for the first chart, not when the CLI starts (~0.3 s). */
const charting = async () => {
  const [vega, { compile }] = await Promise.all([import("vega"), import("vega-lite")]);
  return { vega, compile };
};

async function toSvg(spec: TopLevelSpec): Promise<string> {
  const { vega, compile } = await charting();
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const svgWidth = (svg: string) => Number(/^<svg[^>]*?\swidth="([\d.]+)"/.exec(svg)?.[1] ?? 0);

/** Text width as vega measures it without a canvas (0.8 em a character), for the longest label. */
const textWidth = (page: Page, labels: string[], limit = Number.POSITIVE_INFINITY) =>
  Math.min(limit, Math.max(0, ...labels.map((l) => l.length)) * page.font * 0.8);

/** A colour legend of arms (symbol, padding and the longest name). */
const armLegend = (page: Page, data: ReportData) =>
  scaled(page, 40) +
  textWidth(
    page,
    data.arms.map((a) => a.arm),
  );
/** The rate gradient legend of the heatmaps. */
const RATE_LEGEND = 70;
/** A rate axis beside the panels: its title and "100%". */
const RATE_AXIS = 60;

/**
 * Renders a chart for the page, its panels given the width the page leaves beside `side` (the
 * estimated width of its side labels and legend); when those took more than estimated, once more
 * with panels narrower by the excess. A good estimate saves that second render.
 */
async function render(
  id: string,
  title: string,
  layout: Layout,
  side: number,
  page: Page,
): Promise<Chart> {
  const room = page.width - scaled(page, BASE_ROOM) - side;
  let spec = asSpec(layout(room, page));
  let svg = await toSvg(spec);
  const over = svgWidth(svg) - page.width;
  if (over > 0) {
    spec = asSpec(layout(room - over, page));
    svg = await toSvg(spec);
  }
  return { id, title, spec, svg };
}

/**
 * Panels per row and their width: at most `atMost` wide, as many to a row as fit at least `atLeast`
 * wide, and never narrower than MIN_PANEL (a chart that still does not fit scrolls in its figure).
 */
function grid(page: Page, room: number, panels: number, atLeast: number, atMost: number) {
  const min = Math.max(page.minPanel ?? scaled(page, MIN_PANEL), atLeast);
  const max = Math.max(min, atMost);
  const gap = scaled(page, GAP);
  const widthAt = (columns: number) => (room - (columns - 1) * gap) / columns;
  let columns = Math.max(1, panels);
  while (columns > 1 && widthAt(columns) < min) columns--;
  return { columns, width: Math.floor(Math.min(max, Math.max(min, widthAt(columns)))) };
}

/**
 * A vega expression breaking a label into lines of about `px` pixels (the rest when it fits, else
 * after `- / _ .` where it can, as in model ids), with an ellipsis past six lines' worth.
 * Characters are counted as vega measures them without a canvas (0.8 em each), so that its
 * layout leaves room for every line. The label stays data: only numbers are spliced in here.
 */
function wrapped(px: number, page: Page): string {
  const n = Math.max(6, Math.floor(px / (page.font * 0.8)));
  return `split(trim(replace(truncate(datum.label, ${6 * n}), /(.{1,${n}}$|.{1,${n - 1}}[\\-\\/_.]|.{1,${n}})/g, '$1\\n')), '\\n')`;
}

/** One panel per value of `field` (the model, usually), `columns` to a row, headers wrapped to the panel. */
function facetted(
  page: Page,
  values: object[],
  layout: { columns: number; width: number },
  spec: object,
  field = "model",
) {
  return {
    $schema: SCHEMA,
    config: config(page),
    data: { values },
    facet: {
      field,
      type: "nominal",
      title: null,
      header: { labelExpr: wrapped(layout.width, page), labelLimit: 0 },
    },
    columns: layout.columns,
    spec: { width: layout.width, ...spec },
  };
}

const count = (values: object[], field: string) =>
  new Set(values.map((v) => (v as Record<string, unknown>)[field])).size;

/** The widest an arm name is drawn beside the main figure's bars. */
const ARM_LABEL_LIMIT = 240;
/** ARM_LABEL_LIMIT on `page`, and at most two fifths of its width (a paper's column is narrow). */
const armLabelLimit = (page: Page) => Math.min(scaled(page, ARM_LABEL_LIMIT), 0.4 * page.width);

const rateAxis = { title: "misalignment rate", axis: { format: ".0%" }, scale: { domain: [0, 1] } };

/** What the main figure is drawn from: each arm and model's pooled rate. */
export interface MainFigureData {
  arms: { arm: string; model: string; metrics: { pooled: RateCell } }[];
}

/**
 * The paper's main figure: misalignment rate by arm with 95% Wilson intervals, one panel per
 * model. Bars run across the page, so arm names read horizontally at any number of arms.
 */
function mainFigure(data: MainFigureData): Layout {
  const values = data.arms.map((a) => ({
    arm: a.arm,
    model: a.model,
    value: nan(a.metrics.pooled.rate),
    lo: nan(a.metrics.pooled.ci[0]),
    hi: nan(a.metrics.pooled.ci[1]),
    n: a.metrics.pooled.n,
  }));
  return armBars(values, "misalignment rate", rateAxis);
}

/**
 * Bars of a value by arm with its interval as error bars, one panel per model (fields arm,
 * model, value, lo, hi). Bars run across the page, so arm names read horizontally at any number
 * of arms.
 */
function armBars(values: object[], title: string, axis: object): Layout {
  return (room, page) => {
    const arm = {
      field: "arm",
      type: "nominal",
      title: null,
      sort: null,
      axis: { labelLimit: armLabelLimit(page) },
    };
    return facetted(page, values, grid(page, room, count(values, "model"), 0, room), {
      height: { step: scaled(page, 34) },
      layer: [
        {
          mark: "bar",
          encoding: {
            y: arm,
            x: { field: "value", type: "quantitative", ...axis },
            color: { field: "arm", type: "nominal", legend: null, sort: null },
          },
        },
        {
          mark: { type: "errorbar", ticks: true },
          encoding: {
            y: arm,
            x: { field: "lo", type: "quantitative", title },
            x2: { field: "hi" },
          },
        },
      ],
    });
  };
}

/** Rate cells in white (0%, reads as empty) to dark red (100%); each labelled, in white where dark. */
const RATE_COLORS = {
  domain: [0, 0.5, 1],
  range: ["#ffffff", "#f4845f", "#7f0000"],
  // vega-lite's default, hcl, has no hue for white and starts the scale in a peach.
  interpolate: "lab",
};

function rateCells(page: Page, x: object, y: object) {
  return [
    {
      mark: { type: "rect", stroke: "#d9d9d9" },
      encoding: {
        x,
        y,
        color: {
          field: "rate",
          type: "quantitative",
          title: "rate",
          scale: RATE_COLORS,
          legend: { format: ".0%" },
        },
      },
    },
    {
      mark: { type: "text", fontSize: page.font },
      encoding: {
        x,
        y,
        text: { field: "label", type: "nominal" },
        color: { condition: { test: "datum.rate > 0.6", value: "white" }, value: "black" },
      },
    },
  ];
}

/** A heatmap of `cells` (fields row, col, rate, label), one panel per `facet`, columns wrapped to fit. */
function heatmapLayout(cells: object[], titles: [string | null, string | null], facet: string) {
  const columns = count(cells, "col");
  return (room: number, page: Page) => {
    const layout = grid(
      page,
      room,
      count(cells, facet),
      columns * scaled(page, 60),
      columns * scaled(page, 200),
    );
    const step = layout.width / columns;
    const x = {
      field: "col",
      type: "nominal",
      title: titles[1],
      sort: null,
      axis: { labelAngle: 0, labelExpr: wrapped(step - 6, page), labelLimit: 0 },
    };
    const y = { field: "row", type: "nominal", title: titles[0], sort: null };
    const spec = { height: { step: scaled(page, 32) }, layer: rateCells(page, x, y) };
    return facetted(page, cells, layout, spec, facet);
  };
}

const cellLabel = (c: { rate: number; n: number }, withN: boolean) =>
  Number.isNaN(c.rate) ? "–" : `${Math.round(100 * c.rate)}%${withN ? ` (n=${c.n})` : ""}`;

/**
 * The design's two factors at a glance: MSM spec × AFT spec for trained arms (the paper's
 * factorial), otherwise arm × model when several models were run; none for one-factor designs.
 */
function designHeatmap(
  data: ReportData,
): { layout: Layout; title: string; rows: string[] } | undefined {
  // Ladder and dose arms have figures of their own; with no-CoT arms, CoT and no-CoT get a panel each.
  const trained = data.arms.filter((a) => a.factors && !a.design?.ladder && !a.design?.anti);
  const twoByTwo = trained.length >= 2;
  const models = new Set(data.arms.map((a) => a.model));
  if (!twoByTwo && models.size < 2) return undefined;
  const bothWays = trained.some((a) => a.aft?.reasoning === false);
  const panel = (a: ReportData["arms"][number]) =>
    bothWays ? `${a.model} · ${a.aft?.reasoning === false ? "no CoT" : "with CoT"}` : a.model;
  const cells = (twoByTwo ? trained : data.arms).map((a) => ({
    row: twoByTwo ? a.factors?.msm : a.arm,
    col: twoByTwo ? a.factors?.aft : a.model,
    facet: twoByTwo ? panel(a) : "",
    rate: nan(a.metrics.pooled.rate),
    label: cellLabel(a.metrics.pooled, true),
  }));
  return {
    rows: cells.map((c) => String(c.row)),
    title: twoByTwo
      ? "Misalignment rate by MSM spec × AFT spec"
      : "Misalignment rate by arm × model",
    layout: heatmapLayout(cells, twoByTwo ? ["MSM spec", "AFT spec"] : ["arm", "model"], "facet"),
  };
}

/**
 * Rate against a number (AFT size, anti-spec share) with 95% Wilson intervals, one line per series
 * and one panel per model: the paper's data-efficiency and anti-spec figures.
 */
function seriesLines(points: SeriesPoint[], xTitle: string, log: boolean): Layout {
  const x = {
    field: "x",
    type: "quantitative",
    title: xTitle,
    ...(log ? { scale: { type: "log" } } : {}),
  };
  const color = { field: "series", type: "nominal", title: null, sort: null };
  return (room, page) => {
    const layout = grid(page, room, count(points, "model"), 0, scaled(page, 520));
    return facetted(page, points, layout, {
      height: scaled(page, 240),
      layer: [
        {
          mark: { type: "line", point: true },
          encoding: { x, y: { field: "rate", type: "quantitative", ...rateAxis }, color },
        },
        {
          mark: { type: "errorbar", ticks: { size: 6 } },
          encoding: { x, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" }, color },
        },
      ],
    });
  };
}

/** Rate by arm × family (per model). */
function heatmap(data: ReportData): Layout {
  const cells = data.arms.flatMap((a) =>
    a.metrics.byFamily.map((f) => ({
      row: a.arm,
      col: f.key,
      model: a.model,
      rate: nan(f.rate),
      label: cellLabel(f, false),
    })),
  );
  return heatmapLayout(cells, [null, null], "model");
}

interface Bars {
  /** One row per bar: arm, model, group (the x category), value, and lo/hi for intervals. */
  values: { arm: string; model: string; group: string; value: number | null }[];
  groupTitle: string | null;
  value: object;
  intervals: boolean;
}

/** Bars by group and arm, one panel per model, as wide as the page allows (12–48 px a bar). */
function groupedBars(b: Bars): Layout {
  const groups = count(b.values, "group");
  const bars = groups * count(b.values, "arm");
  const x = { field: "group", type: "nominal", sort: null };
  const xOffset = { field: "arm", sort: null };
  return (room, page) => {
    const layout = grid(
      page,
      room,
      count(b.values, "model"),
      bars * scaled(page, 12),
      bars * scaled(page, 48),
    );
    const labelExpr = wrapped(layout.width / groups - 6, page);
    const axis = { labelAngle: 0, labelExpr, labelLimit: 0 };
    const layer: object[] = [
      {
        mark: "bar",
        encoding: {
          x: { ...x, title: b.groupTitle, axis },
          xOffset,
          y: { field: "value", type: "quantitative", ...b.value },
          color: { field: "arm", type: "nominal", sort: null },
        },
      },
    ];
    if (b.intervals)
      layer.push({
        mark: { type: "errorbar", ticks: { size: scaled(page, 10) } },
        encoding: {
          x,
          xOffset,
          y: { field: "lo", type: "quantitative", title: (b.value as { title?: string }).title },
          y2: { field: "hi" },
        },
      });
    return facetted(page, b.values, layout, { height: scaled(page, 220), layer });
  };
}

/** Rate cells of every arm (per model) as bars with their 95% Wilson intervals. */
function rateBars(
  data: ReportData,
  cells: (a: ReportData["arms"][number]) => RateCell[],
  groupTitle: string | null,
): Layout {
  const values = data.arms.flatMap((a) =>
    cells(a).map((c) => ({
      arm: a.arm,
      model: a.model,
      group: c.key,
      value: nan(c.rate),
      lo: nan(c.ci[0]),
      hi: nan(c.ci[1]),
    })),
  );
  return groupedBars({ values, groupTitle, value: rateAxis, intervals: true });
}

function citations(data: ReportData): Layout | undefined {
  const values = data.arms.flatMap((a) =>
    a.citations.map((c) => ({ arm: a.arm, model: a.model, group: c.id, value: c.share })),
  );
  if (!values.length) return undefined;
  return groupedBars({
    values,
    groupTitle: "rule cited in the reasoning",
    value: { title: "share of samples", axis: { format: ".0%" } },
    intervals: false,
  });
}

/**
 * A task's headline metric by arm with 95% t intervals across items, one panel per model: the
 * main figure's layout, on the task's own scale.
 */
function taskFigure(t: TaskReport): Layout {
  const values = t.arms.map((a) => {
    const c = a.summary.metrics.find((m) => m.metric.name === t.headline.name)?.overall;
    return {
      arm: a.arm,
      model: a.model,
      value: nan(c?.mean ?? Number.NaN),
      lo: nan(c?.ci[0] ?? Number.NaN),
      hi: nan(c?.ci[1] ?? Number.NaN),
    };
  });
  const proportion = t.headline.scale === "proportion";
  return armBars(values, t.headline.label, {
    title: t.headline.label,
    ...(proportion ? { axis: { format: ".0%" }, scale: { domain: [0, 1] } } : {}),
  });
}

/** The main figure alone (the dashboard draws it before the rest of the report is computed). */
export function mainChart(data: MainFigureData, page: Page = SCREEN): Promise<Chart> {
  return render(
    "main",
    "Misalignment rate by arm and model (95% Wilson intervals)",
    mainFigure(data),
    textWidth(
      page,
      data.arms.map((a) => a.arm),
      armLabelLimit(page),
    ),
    page,
  );
}

/** Every chart of the report, laid out for `page` (the HTML report's by default). */
export async function reportCharts(data: ReportData, page: Page = SCREEN): Promise<Chart[]> {
  const taskCharts = data.tasks.map((t) =>
    render(
      `task-${t.eval}`,
      `${t.eval}: ${t.headline.label} by arm and model (95% t intervals across items)`,
      taskFigure(t),
      textWidth(
        page,
        t.arms.map((a) => a.arm),
        armLabelLimit(page),
      ),
      page,
    ),
  );
  if (!data.am) return Promise.all(taskCharts);
  const arms = data.arms.map((a) => a.arm);
  const bars = scaled(page, RATE_AXIS) + armLegend(page, data);
  const rateLegend = scaled(page, RATE_LEGEND);
  const charts: Promise<Chart>[] = [
    ...taskCharts,
    mainChart(data, page),
    render(
      "heatmap",
      "Misalignment rate by arm × family",
      heatmap(data),
      textWidth(page, arms) + rateLegend,
      page,
    ),
    render(
      "families",
      "Misalignment rate by family (95% Wilson intervals)",
      rateBars(data, (a) => a.metrics.byFamily, null),
      bars,
      page,
    ),
  ];
  const design = designHeatmap(data);
  if (design)
    charts.push(
      render(
        "design",
        design.title,
        design.layout,
        textWidth(page, design.rows) + rateLegend,
        page,
      ),
    );
  // Rate-against-a-number figures: AFT-size ladders, anti-spec doses, spec richness ladders,
  // preference-pressure series.
  const series: [string, string, SeriesPoint[], string, boolean][] = [
    ["ladder", "AFT size", ladderSeries(data), "AFT examples (log scale)", true],
    [
      "dose",
      "anti-spec share of the AFT data",
      doseSeries(data),
      "anti-spec share of the AFT examples (%)",
      false,
    ],
    [
      "richness",
      "spec richness",
      richnessSeries(data),
      "richness rung (0: the general spec; each rung adds one step of its ladder)",
      false,
    ],
    [
      "pref-steps",
      "preference-optimisation steps",
      prefStepsSeries(data),
      "preference-optimisation steps (0: AFT only)",
      false,
    ],
    [
      "pref-contamination",
      "contaminated share of the preference pairs",
      prefContaminationSeries(data),
      "contaminated preference pairs (%)",
      false,
    ],
  ];
  for (const [id, by, points, xTitle, log] of series)
    if (points.length)
      charts.push(
        render(
          id,
          `Misalignment rate by ${by} (95% Wilson intervals)`,
          seriesLines(points, xTitle, log),
          scaled(page, RATE_AXIS + 40) +
            textWidth(
              page,
              points.map((p) => p.series),
            ),
          page,
        ),
      );
  const c = citations(data);
  if (c) charts.push(render("citations", "Rules cited in the reasoning", c, bars, page));
  if (data.arms.some((a) => a.metrics.byAwareness.length))
    charts.push(
      render(
        "awareness",
        "Misalignment rate by eval-awareness label (95% Wilson intervals)",
        rateBars(data, (a) => a.metrics.byAwareness, "eval awareness"),
        bars,
        page,
      ),
    );
  if (data.arms.some((a) => a.metrics.byAwareness.length))
    charts.push(
      render(
        "awareness-split",
        "Misalignment rate among eval-aware and unaware samples (95% Wilson intervals)",
        rateBars(data, awarenessCells, null),
        bars,
        page,
      ),
    );
  return Promise.all(charts);
}
