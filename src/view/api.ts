/**
 * The dashboard's JSON API, mounted at /api. Every response is one of the types in
 * api-types.ts; every read goes through the store and report modules (no second data layer).
 * Other parts (annotations) add their routes as an `ApiModule`.
 */
import { type Context, Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { SpecsciError } from "../core/errors.js";
import { redact } from "../core/secrets.js";
import { listEvalRuns } from "../experiment/eval-listing.js";
import type { LlmClient } from "../llm/client.js";
import { dialect } from "../store/database.js";
import type { Store, StoreLocation } from "../store/db.js";
import type {
  ChangeEvent,
  ExperimentStagesResponse,
  ExperimentsResponse,
  RunsResponse,
  SampleFilterOptions,
  SamplesPage,
  Transcript,
} from "./api-types.js";
import { ExperimentIndex } from "./experiments.js";
import { pageRoutes } from "./pages-api.js";
import { ReasoningFilters, transcriptReasoning } from "./reasoning.js";
import { filterOptions, parseSampleQuery, querySamples } from "./samples.js";
import { loadTranscript } from "./transcript.js";

/**
 * Commits by other processes (a running `specsci run`), seen through SQLite's data_version,
 * which changes on a connection exactly when another connection has committed. PostgreSQL has no
 * such number per database: the newest finished transaction id of the server (its snapshot's
 * xmax) moves when any transaction that wrote ends, so a write to another database of the same
 * server is taken for a change too (a refresh that finds nothing new); reads never move it.
 */
export class StoreChanges {
  version = 0;
  private last: number;
  private readonly listeners = new Set<(version: number) => void>();
  private readonly timer: NodeJS.Timeout;
  private readonly dataVersion: () => number;

  constructor(store: Store, pollMs: number) {
    const db = store.db;
    const read = dialect(db, {
      sqlite: () => () => db.pragma("data_version", { simple: true }) as number,
      postgres: () => {
        const xmax = db.prepare("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint");
        return () => xmax.pluck().get() as number;
      },
    });
    this.dataVersion = read();
    this.last = this.dataVersion();
    this.timer = setInterval(() => this.poll(), pollMs);
    this.timer.unref();
  }

  private poll(): void {
    const now = this.dataVersion();
    if (now === this.last) return;
    this.last = now;
    this.version++;
    for (const l of this.listeners) l(this.version);
  }

  subscribe(listener: (version: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stop(): void {
    clearInterval(this.timer);
    this.listeners.clear();
  }
}

export interface ApiDeps {
  /** Over the read-only store; it never calls a model. */
  client: LlmClient;
  changes: StoreChanges;
  /** The store the client reads, for the connections opened to write to it (annotations). */
  location: StoreLocation;
}

/** What a module's routes read through: the API's own store client and experiment index. */
export interface ModuleDeps extends ApiDeps {
  experiments: ExperimentIndex;
}

/** More routes on the API (e.g. annotations); writes pass the token and origin checks first. */
export type ApiModule = (api: Hono, deps: ModuleDeps) => void;

/** How often an idle live-update stream says it is still there (proxies drop silent ones). */
const HEARTBEAT_MS = 15_000;

export function apiRoutes(deps: ApiDeps & { modules: ApiModule[] }): Hono {
  const api = new Hono();
  const store = deps.client.store;
  const experiments = new ExperimentIndex(deps.client);
  const reasoning = new ReasoningFilters(store);
  const noStore = (c: Context) => c.header("Cache-Control", "no-store");
  api.use("*", async (c, next) => {
    await next();
    noStore(c);
  });

  api.get("/experiments", async (c) =>
    c.json({ experiments: await experiments.list() } satisfies ExperimentsResponse),
  );
  api.get("/experiments/:id", async (c) => {
    const found = await experiments.detail(c.req.param("id"), deps.changes.version);
    return found ? c.json(found) : notFound(c, `no experiment ${c.req.param("id")}`);
  });
  api.get("/experiments/:id/rates", async (c) => {
    const found = await experiments.rates(c.req.param("id"), deps.changes.version);
    return found ? c.json(found) : notFound(c, `no experiment ${c.req.param("id")}`);
  });
  api.get("/experiments/:id/stages", async (c) => {
    const stages = await experiments.stages(c.req.param("id"));
    if (!stages) return notFound(c, `no experiment ${c.req.param("id")}`);
    return c.json({ stages } satisfies ExperimentStagesResponse);
  });
  api.get("/experiments/:id/filters", async (c) => {
    const stages = await experiments.stages(c.req.param("id"));
    if (!stages) return notFound(c, `no experiment ${c.req.param("id")}`);
    const analyses = (await experiments.analyses(c.req.param("id"))) ?? [];
    return c.json(filterOptions(stages, analyses) satisfies SampleFilterOptions);
  });
  api.get("/runs", (c) => {
    const runs = listEvalRuns(store).map((r) => ({
      id: r.id,
      task: r.task,
      model: r.model,
      epochs: r.epochs,
      sampleCount: r.sampleCount,
      createdAt: r.createdAt,
      completedAt: r.completedAt,
      arms: r.arms,
      spec: r.spec,
      judges: r.judges,
      done: r.progress.done,
      errors: r.progress.errors,
      truncated: r.progress.truncated,
      refused: r.progress.refused,
      spentUsd: store.llm.usage({ runId: r.id }).reduce((t, u) => t + u.costUsd, 0),
    }));
    return c.json({ runs } satisfies RunsResponse);
  });
  api.get("/samples", async (c) => {
    const q = parseSampleQuery(new URL(c.req.url).searchParams);
    const stages = q.experiment ? await experiments.stages(q.experiment) : null;
    if (q.experiment && !stages) return notFound(c, `no experiment ${q.experiment}`);
    const analyses = q.experiment ? ((await experiments.analyses(q.experiment)) ?? null) : null;
    const more = reasoning.filters(q, analyses, deps.changes.version);
    return c.json(querySamples(store, q, stages ?? null, more) satisfies SamplesPage);
  });
  api.get("/sample", async (c) => {
    const { run, sample, epoch } = c.req.query();
    if (!run || !sample || !epoch || !/^\d+$/.test(epoch))
      throw new SpecsciError("a sample is named by run, sample and epoch (a whole number)");
    const t = await loadTranscript(store, run, sample, Number(epoch), async (record) => {
      const found = await experiments.analysisOfRun(run);
      if (!found) return null;
      if ("problem" in found) return { problem: found.problem };
      return transcriptReasoning(store, found.experiment, found.analysis, record);
    });
    return t
      ? c.json(t satisfies Transcript)
      : notFound(c, `no sample ${sample} (epoch ${epoch}) in run ${run}`);
  });
  api.get("/events", (c) =>
    streamSSE(c, async (stream) => {
      let wake: (() => void) | undefined;
      const unsubscribe = deps.changes.subscribe((version) => {
        void stream.writeSSE({
          event: "change",
          data: JSON.stringify({ version } satisfies ChangeEvent),
        });
      });
      stream.onAbort(() => {
        unsubscribe();
        wake?.();
      });
      await stream.writeSSE({
        event: "hello",
        data: JSON.stringify({ version: deps.changes.version }),
      });
      while (!stream.aborted && !stream.closed) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, HEARTBEAT_MS).unref();
        });
        if (!stream.aborted) await stream.write(": still here\n\n");
      }
      unsubscribe();
    }),
  );
  pageRoutes(api, { store, experiments });
  for (const mount of deps.modules) mount(api, { ...deps, experiments });
  api.all("*", (c) => notFound(c, `no API route ${c.req.method} ${c.req.path}`));
  api.onError((e, c) => {
    noStore(c);
    if (e instanceof SpecsciError)
      return c.json({ error: redact(e.message), ...(e.hint ? { hint: e.hint } : {}) }, 400);
    // Internal details stay in the server's log, not in a page.
    process.stderr.write(`specsci view: internal error on ${c.req.path}: ${redact(String(e))}\n`);
    return c.json({ error: "internal error (see the server's output)" }, 500);
  });
  return api;
}

const notFound = (c: Context, message: string) => c.json({ error: message }, 404);
