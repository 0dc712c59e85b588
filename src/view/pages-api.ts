/**
 * The API of the Side by side, Data and Specs pages, mounted on /api beside the others (they
 * share its experiment index, so a stage graph is rebuilt once for every page).
 */
import type { Context, Hono } from "hono";
import { SpecsciError } from "../core/errors.js";
import type { Store } from "../store/index.js";
import type {
  CompareResponse,
  DataCompareResponse,
  DataItem,
  DataItemsPage,
  DataSetResponse,
  DataSetsResponse,
  SpecDiffResponse,
  SpecResponse,
  SpecsResponse,
} from "./api-types.js";
import { compareArms, parseCompareQuery } from "./compare.js";
import { DataIndex } from "./data.js";
import type { ExperimentIndex } from "./experiments.js";
import { SpecIndex, specView } from "./specs.js";

const notFound = (c: Context, message: string) => c.json({ error: message }, 404);

/** A whole-number query parameter, or the default when absent. */
function wholeParam(c: Context, name: string, fallback: number): number {
  const v = c.req.query(name);
  if (v === undefined || v === "") return fallback;
  if (!/^\d+$/.test(v)) throw new SpecsciError(`${name} must be a whole number (got ${v})`);
  return Number(v);
}

function formParam(c: Context): "reasoning" | "plain" {
  const v = c.req.query("form") || "reasoning";
  if (v !== "reasoning" && v !== "plain")
    throw new SpecsciError(`form must be reasoning or plain (got ${v})`);
  return v;
}

export function pageRoutes(api: Hono, deps: { store: Store; experiments: ExperimentIndex }): void {
  const specs = new SpecIndex(deps.experiments);
  const data = new DataIndex(deps.experiments, deps.store);

  api.get("/compare", async (c) => {
    const q = parseCompareQuery(new URL(c.req.url).searchParams);
    const r = await compareArms(deps.store, deps.experiments, q);
    return "missing" in r ? notFound(c, r.missing) : c.json(r.ok satisfies CompareResponse);
  });

  api.get("/specs", async (c) => c.json((await specs.list()) satisfies SpecsResponse));
  api.get("/specs/:experiment/:spec", async (c) => {
    const r = await specs.find(c.req.param("experiment"), c.req.param("spec"));
    return "missing" in r
      ? notFound(c, r.missing)
      : c.json(specView(r.summary, r.spec) satisfies SpecResponse);
  });
  api.get("/specs/:experiment/:spec/diff/:other", async (c) => {
    const r = await specs.diff(
      c.req.param("experiment"),
      c.req.param("spec"),
      c.req.param("other"),
    );
    return "missing" in r ? notFound(c, r.missing) : c.json(r as SpecDiffResponse);
  });

  api.get("/data", async (c) => c.json((await data.list()) satisfies DataSetsResponse));
  api.get("/data/compare", async (c) => {
    const { a, b } = c.req.query();
    if (!a || !b) throw new SpecsciError("a comparison of corpora names two data sets: a=…&b=…");
    const raw = c.req.query("tolerance");
    const tolerance = raw === undefined || raw === "" ? 0.01 : Number(raw);
    const r = await data.compare(a, b, tolerance);
    return "missing" in r ? notFound(c, r.missing) : c.json(r satisfies DataCompareResponse);
  });
  api.get("/data/:id", async (c) => {
    const r = await data.detail(c.req.param("id"));
    return "missing" in r ? notFound(c, r.missing) : c.json(r satisfies DataSetResponse);
  });
  api.get("/data/:id/items", async (c) => {
    const r = await data.items(c.req.param("id"), {
      offset: wholeParam(c, "offset", 0),
      limit: wholeParam(c, "limit", 100),
      form: formParam(c),
    });
    return "missing" in r ? notFound(c, r.missing) : c.json(r satisfies DataItemsPage);
  });
  api.get("/data/:id/items/:index", async (c) => {
    const index = c.req.param("index");
    if (!/^\d+$/.test(index))
      throw new SpecsciError(`an item is named by its index, a whole number (got ${index})`);
    const r = await data.item(c.req.param("id"), Number(index), formParam(c));
    return "missing" in r ? notFound(c, r.missing) : c.json(r satisfies DataItem);
  });
}
