/**
 * The dashboard's annotation routes, under /api/annotations: the taxonomy a scope's transcripts
 * are labelled under, a person's label of a transcript (read, put, withdraw), the labelling
 * queue, judge–human and labeller–human agreement, and the labels as the `--human` JSONL. A thin
 * shell over the annotation library (src/analysis/annotations/), as the CLI is.
 *
 * A scope is an experiment (`experiment=ID`: its agentic-misalignment stages, each run counted as
 * its arm) or eval runs (`run=ID`, repeated). The taxonomy in use is the one the experiment's
 * reasoning analysis labels under (`analysis.reasoning.taxonomy`), else the built-in one.
 *
 * Writes: the server's own connection is read-only, so no other route can change the store; a
 * label is written through a connection opened for it and closed after (`Store.open`, as the
 * server migrates at start). A person gives a few labels a minute, so an open's milliseconds cost
 * nothing, and between labels the dashboard holds no writable handle on a store `specsci run` may
 * be writing; each write is one short IMMEDIATE transaction (store.annotations).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Context, Hono } from "hono";
import {
  annotationAgreement,
  annotationQueue,
  annotationTaxonomy,
  humanLabelsOf,
} from "../analysis/annotations/index.js";
import {
  analysisId,
  builtinTaxonomy,
  collectLabels,
  type LabelledRuns,
  POLICY_MISUSE,
  type Taxonomy,
} from "../analysis/reasoning/index.js";
import { SpecsciError } from "../core/errors.js";
import { AM_TASK_NAME } from "../evals/am/task.js";
import { type ArmAnalysis, armAnalyses } from "../experiment/reasoning.js";
import { backendOf } from "../store/database.js";
import type { StoreLocation } from "../store/db.js";
import { type AnnotationInput, type AnnotationKey, Store } from "../store/index.js";
import type { ModuleDeps } from "./api.js";
import type {
  AnnotationAgreementResponse,
  AnnotationLabelResponse,
  AnnotationLabelsResponse,
  AnnotationQueueResponse,
  AnnotationScopeResponse,
} from "./api-types.js";

/** A refusal with its own HTTP status (a plain SpecsciError is a 400). */
class Refusal extends SpecsciError {
  constructor(
    readonly status: 404 | 409 | 503,
    message: string,
    hint?: string,
  ) {
    super(message, hint === undefined ? {} : { hint });
  }
}

interface Scope {
  /** A name for files (the experiment's id, or the runs'). */
  name: string;
  runs: { runId: string; arm: string }[];
  taxonomy: Taxonomy;
  /** Each arm × model's reasoning analysis, narrowed to the scope's runs. */
  analyses: ArmAnalysis[];
  problem: string | null;
}

const QUEUE_LIMIT_MAX = 500;
/** How many scopes' agreement the server keeps (see the agreement route). */
const AGREEMENTS_KEPT = 8;

/** How long a write waits in SQLite for the write lock each try, blocking the event loop. */
const WRITE_BUSY_MS = 20;
/** How long a write keeps trying while another process (`specsci run`) holds the write lock. */
const WRITE_PATIENCE_MS = 3000;

const isBusy = (e: unknown) =>
  (e as { code?: string }).code === "SQLITE_BUSY" ||
  (e as { code?: string }).code === "SQLITE_BUSY_SNAPSHOT";

/**
 * Opens a writable connection for one write and closes it (see the file's comment: why). While
 * `specsci run` holds the write lock the write is retried with backoff between short tries, the
 * waits off the event loop, so every other request is answered meanwhile (SQLite's own busy
 * timeout would block the server for its whole length); after a few seconds it gives up with a
 * 503 the page shows, keeping the form.
 */
async function withWriter<T>(
  dir: string,
  location: StoreLocation,
  write: (store: Store) => T,
): Promise<T> {
  const writer = Store.open(dir, location);
  try {
    // PostgreSQL locks rows, not the database: a label's insert waits on no other writer there.
    if (backendOf(writer.db) === "sqlite") writer.db.pragma(`busy_timeout = ${WRITE_BUSY_MS}`);
    const giveUp = Date.now() + WRITE_PATIENCE_MS;
    for (let wait = 10; ; wait = Math.min(wait * 2, 250)) {
      try {
        return write(writer);
      } catch (e) {
        if (!isBusy(e) || Date.now() + wait > giveUp)
          throw isBusy(e)
            ? new Refusal(
                503,
                "the store is busy, try again: another process (such as `specsci run`) is writing to it",
                "the label is not saved yet; save it again in a moment",
              )
            : e;
      }
      await sleep(wait);
    }
  } finally {
    writer.close();
  }
}

async function experimentScope(deps: ModuleDeps, id: string): Promise<Scope> {
  const rebuilt = (await deps.experiments.rebuilt(id))?.rebuilt;
  if (!rebuilt) throw new Refusal(404, `experiment: no experiment ${id} in this store`);
  if ("problem" in rebuilt) {
    const stages = (await deps.experiments.stages(id)) ?? [];
    return {
      name: id,
      runs: unique(stages.map((s) => ({ runId: s.runId, arm: s.arm }))),
      taxonomy: builtinTaxonomy(),
      analyses: [],
      problem: rebuilt.problem,
    };
  }
  const { loaded, graph } = rebuilt;
  const several = loaded.experiment.models.length > 1;
  const runs = graph.stages
    .filter((s) => s.task.name === AM_TASK_NAME)
    .map((s) => ({
      runId: s.runId,
      arm: several ? `${s.arm.name} · ${s.experimentModel}` : s.arm.name,
    }));
  const analyses = armAnalyses(loaded, graph, deps.client.store);
  return {
    name: id,
    runs: unique(runs),
    taxonomy: analyses[0]?.options.taxonomy ?? builtinTaxonomy(),
    analyses,
    problem: null,
  };
}

/**
 * Eval runs by id. Their taxonomy is the one of the reasoning analysis of any experiment they are
 * stages of (the transcript page knows only a run): one taxonomy, or a refusal naming them.
 */
async function runsScope(deps: ModuleDeps, runIds: string[], field: string): Promise<Scope> {
  const store = deps.client.store;
  for (const id of runIds)
    if (!store.evals.run(id))
      throw new Refusal(
        404,
        `${field}: no eval run ${id} in this store`,
        "`specsci eval list` lists the runs",
      );
  const wanted = new Set(runIds);
  const analyses: ArmAnalysis[] = [];
  for (const run of store.runs.ofKind("experiment")) {
    const rebuilt = (await deps.experiments.rebuilt(run.id))?.rebuilt;
    if (!rebuilt || !("graph" in rebuilt)) continue;
    if (!rebuilt.graph.stages.some((s) => wanted.has(s.runId))) continue;
    for (const a of armAnalyses(rebuilt.loaded, rebuilt.graph, store)) {
      const mine = a.runIds.filter((r) => wanted.has(r));
      if (mine.length) analyses.push({ ...a, runIds: mine });
    }
  }
  const versions = [...new Set(analyses.map((a) => a.options.taxonomy.version))];
  if (versions.length > 1)
    throw new SpecsciError(
      `${field}: these runs are analysed under ${versions.length} taxonomies (${versions.join(", ")})`,
      { hint: "label them from their experiment's Annotate page, one experiment at a time" },
    );
  return {
    name: runIds.join("+"),
    runs: runIds.map((runId) => ({ runId, arm: runId })),
    taxonomy: analyses[0]?.options.taxonomy ?? builtinTaxonomy(),
    analyses,
    problem: null,
  };
}

const unique = (runs: { runId: string; arm: string }[]) => {
  const seen = new Set<string>();
  return runs.filter((r) => !seen.has(r.runId) && seen.add(r.runId));
};

/** The scope a GET names: `experiment=ID` or `run=ID` (one or more), not both. */
function scopeOf(c: Context, deps: ModuleDeps): Promise<Scope> {
  const experiment = c.req.query("experiment");
  const runs = (c.req.queries("run") ?? []).filter((r) => r !== "");
  if (experiment && runs.length)
    throw new SpecsciError("experiment, run: give one of them, not both");
  if (experiment) return experimentScope(deps, experiment);
  if (runs.length) return runsScope(deps, runs, "run");
  throw new SpecsciError("experiment: say what to annotate", {
    hint: "give experiment=<experiment id> or run=<eval run id> (run may be repeated)",
  });
}

/**
 * The reasoning analysis's labels of the scope's human-labelled transcripts, pooled over arms:
 * agreement matches no others, so only they are read (2,000 of 200,000 at the bench's size).
 */
function pooledLabels(store: Store, analyses: ArmAnalysis[]): LabelledRuns | undefined {
  const only = store.annotations
    .list({ runIds: analyses.flatMap((a) => a.runIds) })
    .map((a) => ({ runId: a.runId, sampleId: a.sampleId, epoch: a.epoch }));
  const each = analyses.map((a) => collectLabels(store, a.runIds, a.options, { only }));
  const first = each[0];
  return (
    first && {
      ...first,
      runIds: each.flatMap((l) => l.runIds),
      items: each.flatMap((l) => l.items),
    }
  );
}

function annotatorParam(c: Context): string {
  const name = c.req.query("annotator")?.trim();
  if (!name) throw new SpecsciError("annotator: give the annotator's name (annotator=NAME)");
  return name;
}

/** A whole-number query parameter: absent gives `fallback` (undefined: it is required). */
function intParam(
  c: Context,
  name: string,
  o: { fallback?: number; min?: number; max?: number },
): number {
  const raw = c.req.query(name);
  if (raw === undefined || raw === "") {
    if (o.fallback !== undefined) return o.fallback;
    throw new SpecsciError(`${name}: required (a whole number)`);
  }
  const n = Number(raw);
  const min = o.min ?? Number.MIN_SAFE_INTEGER;
  const max = o.max ?? Number.MAX_SAFE_INTEGER;
  if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max)
    throw new SpecsciError(
      `${name}: ${JSON.stringify(raw)} is not a whole number from ${min} to ${max}`,
    );
  return n;
}

/** A write's JSON body, as an object. */
async function bodyOf(c: Context): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new SpecsciError("body: not JSON", { hint: "send the label as a JSON object" });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new SpecsciError("body: not a JSON object", { hint: "send the label as a JSON object" });
  return value as Record<string, unknown>;
}

/** The eval run a write is about (its taxonomy is looked up before the store validates the rest). */
function runIdOf(body: Record<string, unknown>): string {
  if (typeof body.runId !== "string" || !body.runId)
    throw new SpecsciError("runId: give the eval run id of the transcript");
  return body.runId;
}

/** `c`'s route, answering a Refusal with its status (and its hint). */
const route =
  (handler: (c: Context) => Promise<Response>) =>
  async (c: Context): Promise<Response> => {
    try {
      return await handler(c);
    } catch (e) {
      if (!(e instanceof Refusal)) throw e;
      return c.json({ error: e.message, ...(e.hint ? { hint: e.hint } : {}) }, e.status);
    }
  };

const fileSafe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 120);

export const annotationsApi = (api: Hono, deps: ModuleDeps): void => {
  const store = deps.client.store;

  api.get(
    "/annotations/taxonomy",
    route(async (c) => {
      const scope = await scopeOf(c, deps);
      const misuse = scope.taxonomy.categories.find((x) => x.id === POLICY_MISUSE) ?? null;
      return c.json({
        version: scope.taxonomy.version,
        source: scope.taxonomy.source,
        categories: annotationTaxonomy(scope.taxonomy).categories,
        policyMisuse: misuse,
        runs: scope.runs,
        analysis: scope.analyses.length > 0,
        problem: scope.problem,
      } satisfies AnnotationScopeResponse);
    }),
  );

  api.get(
    "/annotations/label",
    route(async (c) => {
      const { run, sample } = c.req.query();
      if (!run || !sample)
        throw new SpecsciError("run, sample: a transcript is named by run, sample and epoch");
      const key = {
        runId: run,
        sampleId: sample,
        epoch: intParam(c, "epoch", { min: 1 }),
        annotator: annotatorParam(c),
      };
      return c.json({
        label: store.annotations.current(key) ?? null,
      } satisfies AnnotationLabelResponse);
    }),
  );

  api.put(
    "/annotations/label",
    route(async (c) => {
      const { taxonomy, ...label } = await bodyOf(c);
      const runId = runIdOf(label);
      if (typeof taxonomy !== "string")
        throw new SpecsciError(
          "taxonomy: give the version (tax-…) of the taxonomy the categories were picked from",
        );
      const scope = await runsScope(deps, [runId], "runId");
      if (taxonomy !== scope.taxonomy.version)
        throw new Refusal(
          409,
          `taxonomy: the categories were picked from ${taxonomy}, but run ${runId} is labelled under ${scope.taxonomy.version}`,
          "reload the page to see the categories in use",
        );
      const pick = annotationTaxonomy(scope.taxonomy);
      const saved = await withWriter(store.dir, deps.location, (w) =>
        w.annotations.put(label as unknown as AnnotationInput, pick),
      );
      return c.json({ label: saved } satisfies AnnotationLabelResponse);
    }),
  );

  api.delete(
    "/annotations/label",
    route(async (c) => {
      const key = await bodyOf(c);
      runIdOf(key);
      if (
        !(await withWriter(store.dir, deps.location, (w) =>
          w.annotations.delete(key as unknown as AnnotationKey),
        ))
      )
        throw new Refusal(
          404,
          `no current label of ${String(key.runId)}/${String(key.sampleId)} (epoch ${String(key.epoch)}) by ${String(key.annotator)} to withdraw`,
        );
      return c.json({ label: null } satisfies AnnotationLabelResponse);
    }),
  );

  api.get(
    "/annotations/labels",
    route(async (c) => {
      const scope = await scopeOf(c, deps);
      const annotator = c.req.query("annotator")?.trim();
      const labels = store.annotations.list({
        runIds: scope.runs.map((r) => r.runId),
        ...(annotator ? { annotator } : {}),
      });
      return c.json({ labels } satisfies AnnotationLabelsResponse);
    }),
  );

  api.get(
    "/annotations/queue",
    route(async (c) => {
      const scope = await scopeOf(c, deps);
      const annotator = annotatorParam(c);
      const seed = intParam(c, "seed", {});
      const limit = intParam(c, "limit", { fallback: 20, min: 1, max: QUEUE_LIMIT_MAX });
      const allocation = c.req.query("allocation") ?? "equal";
      if (allocation !== "equal" && allocation !== "proportional")
        throw new SpecsciError(
          `allocation: ${JSON.stringify(allocation)} is not equal or proportional`,
        );
      const started = performance.now();
      const queue = annotationQueue(store, {
        runs: scope.runs,
        annotator,
        seed,
        limit,
        allocation,
      });
      const ms = Math.round((performance.now() - started) * 10) / 10;
      return c.json({
        ...queue,
        annotator,
        seed,
        allocation,
        ms,
      } satisfies AnnotationQueueResponse);
    }),
  );

  // Agreement reads the human-labelled transcripts and their reasoning labels, and the page asks
  // again on every change of the store: it is kept per scope until what it depends on changes
  // (store.annotations.versionOf).
  const agreements = new Map<string, { version: string; answer: AnnotationAgreementResponse }>();
  api.get(
    "/annotations/agreement",
    route(async (c) => {
      const scope = await scopeOf(c, deps);
      const runIds = scope.runs.map((r) => r.runId);
      const corpora = [...new Set(scope.analyses.map((a) => analysisId(a.options)))];
      const name = JSON.stringify([runIds, corpora, scope.taxonomy.version]);
      const version = store.annotations.versionOf({ runIds, corpora });
      const kept = agreements.get(name);
      if (kept?.version === version) return c.json(kept.answer);
      const labelled = pooledLabels(store, scope.analyses);
      const answer = {
        taxonomy: scope.taxonomy.version,
        analysis: labelled !== undefined,
        annotators: annotationAgreement(store, { runIds, ...(labelled ? { labelled } : {}) }),
      } satisfies AnnotationAgreementResponse;
      agreements.delete(name);
      agreements.set(name, { version, answer });
      // A few scopes are looked at in a session; the oldest kept goes first.
      if (agreements.size > AGREEMENTS_KEPT)
        agreements.delete(agreements.keys().next().value as string);
      return c.json(answer);
    }),
  );

  api.get(
    "/annotations/export",
    route(async (c) => {
      const scope = await scopeOf(c, deps);
      const annotator = c.req.query("annotator")?.trim();
      const out = humanLabelsOf(store, {
        runIds: scope.runs.map((r) => r.runId),
        taxonomy: scope.taxonomy,
        ...(annotator ? { annotator } : {}),
      });
      const file = `human-labels-${fileSafe(scope.name)}${annotator ? `-${fileSafe(annotator)}` : ""}.jsonl`;
      c.header("Content-Type", "application/x-ndjson; charset=utf-8");
      c.header("Content-Disposition", `attachment; filename="${file}"`);
      // What was left out, and why, for the page to say (the lines carry only what was written).
      c.header("X-Specsci-Skipped", JSON.stringify(out.skipped));
      return c.body(out.lines.map((l) => `${JSON.stringify(l)}\n`).join(""));
    }),
  );
};
