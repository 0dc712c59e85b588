/**
 * Discovery mode, the MSM paper's open-ended method: (1) the drivers of each transcript's decision
 * in free text, (2) similar drivers merged into categories by a model, (3) every transcript
 * labelled against those categories, (4) categories that co-occur on more than `overlap` of the
 * smaller one's transcripts merged into one. The result is a taxonomy stored in the workspace
 * (`taxonomy:<version>`), reusable on other runs and exportable as a file.
 */
import { z } from "zod";
import { SpecsciError } from "../../core/errors.js";
import { hashValue } from "../../core/hash.js";
import { feedbackText, loadPromptFile, renderPrompt } from "../../core/prompt-files.js";
import type { LlmClient } from "../../llm/client.js";
import { generateValidated, NoValidAnswer } from "../../llm/validated.js";
import type { Store } from "../../store/index.js";
import { type LabelledRuns, labelRuns, type ReasoningOptions } from "./analyze.js";
import { askItem, needsAsking, pool } from "./items.js";
import { quoteProblem, taggedJson } from "./labeller.js";
import { CATEGORY_KINDS, ReasoningCategory, type Taxonomy, taxonomyOf } from "./taxonomy.js";
import { type Transcript, transcriptBlock, transcriptsOf } from "./transcript.js";

export interface DiscoveryOptions
  extends Omit<ReasoningOptions, "labellers" | "repeats" | "taxonomy"> {
  model: string;
  minCategories: number;
  maxCategories: number;
  /** Most drivers shown to the merging call (a deterministic sample of them beyond that). */
  maxDrivers: number;
  /** Categories sharing more than this share of the smaller one's transcripts are merged. */
  overlap: number;
}

export interface Discovery {
  taxonomy: Taxonomy;
  drivers: number;
  /** Transcripts whose drivers could not be read (failed or invalid calls). */
  failedTranscripts: number;
  /** Categories folded into another by co-occurrence: `into` ← `from`. */
  merges: { into: string; from: string[]; overlap: number }[];
  /** The labels against the categories before step 4. */
  labelled: LabelledRuns;
}

const Drivers = z.object({
  drivers: z
    .array(z.object({ driver: z.string().min(3), quote: z.string() }))
    .min(1)
    .max(6),
});
const Merged = z.object({
  categories: z.array(
    z.object({
      id: z.string(),
      name: z.string().min(1),
      kind: z.enum(CATEGORY_KINDS),
      description: z.string(),
      drivers: z.array(z.number().int()),
    }),
  ),
});

type Driver = { driver: string; quote: string };

export async function discoverTaxonomy(
  client: LlmClient,
  runIds: string[],
  o: DiscoveryOptions,
): Promise<Discovery> {
  const store = client.store;
  const driversPrompt = loadPromptFile("reasoning", "discover-drivers");
  const mergePrompt = loadPromptFile("reasoning", "discover-merge");
  const id = `discovery-${hashValue({
    prompts: [driversPrompt.version, mergePrompt.version],
    model: o.model,
    temperature: o.temperature,
    attempts: o.attempts,
  }).slice(0, 16)}`;
  store.runs.ensure({ id, kind: "analysis", name: `reasoning discovery with ${o.model}` });
  const model = client.model(o.model);
  const params = { temperature: o.temperature, max_tokens: o.maxTokens };
  const transcripts: Transcript[] = runIds.flatMap((r) => transcriptsOf(store, r).transcripts);

  // (1) Drivers per transcript, stored one item each (a rerun asks only for what is missing).
  const stored = store.items.stage(id, "drivers");
  const driverKey = (t: Transcript) => `drivers|${t.runId}/${t.key}`;
  const todo = transcripts.filter((t) => needsAsking(stored.get(driverKey(t))));
  o.log?.(`discovery: drivers of ${todo.length} transcript(s)`);
  await store.runs.track(id, o.signal, () =>
    pool(todo, o.concurrency, (t) =>
      askItem(
        store,
        id,
        { key: driverKey(t), stage: "drivers" },
        model,
        (feedback) => [
          {
            role: "user",
            content: renderPrompt(driversPrompt, {
              transcript: transcriptBlock(t),
              feedback: feedbackText(feedback),
            }),
          },
        ],
        (text) => {
          const j = taggedJson(text, "drivers");
          if ("problem" in j) return j;
          const p = Drivers.safeParse(j.value);
          if (!p.success) return { problem: "give 1 to 6 drivers, each with a driver and a quote" };
          const problem = quoteProblem(
            p.data.drivers.map((d) => d.quote),
            t,
          );
          return problem === undefined ? { ok: p.data.drivers } : { problem };
        },
        {
          params,
          attempts: o.attempts,
          context: { runId: id, stage: "drivers" },
          ...(o.signal ? { signal: o.signal } : {}),
        },
      ),
    ),
  );
  const rows = store.items.stage(id, "drivers");
  const drivers: Driver[] = [];
  let failedTranscripts = 0;
  for (const t of transcripts) {
    const row = rows.get(driverKey(t));
    if (row?.status === "ok") drivers.push(...(row.value as Driver[]));
    else failedTranscripts++;
  }
  // Distinct phrasings; beyond maxDrivers, a sample fixed by hashing (the same on every run).
  const distinct = [
    ...new Map(drivers.map((d) => [d.driver.toLowerCase().trim(), d.driver])).values(),
  ]
    .map((d) => ({ d, h: hashValue(d) }))
    .sort((a, b) => (a.h < b.h ? -1 : 1))
    .slice(0, o.maxDrivers)
    .map((x) => x.d)
    .sort();
  if (!distinct.length) throw new NoDrivers(failedTranscripts, transcripts.length);

  // (2) Merge the drivers into categories: one call, stored under the hash of its input.
  const mergeKey = `merge:${hashValue({ distinct, min: o.minCategories, max: o.maxCategories }).slice(0, 16)}`;
  let categories = store.items.stage(id, "merge").get(mergeKey)?.value as
    | ReasoningCategory[]
    | undefined;
  if (!categories) {
    const tries = Number(
      store.items.stage(id, "merge-failures").get(`${mergeKey}:failed`)?.value ?? 0,
    );
    let r: Awaited<ReturnType<typeof generateValidated<ReasoningCategory[]>>>;
    try {
      r = await generateValidated(
        model,
        (feedback) => [
          {
            role: "user",
            content: renderPrompt(mergePrompt, {
              drivers: distinct.map((d, i) => `${i + 1}. ${d}`).join("\n"),
              min: String(o.minCategories),
              max: String(o.maxCategories),
              feedback: feedbackText(feedback),
            }),
          },
        ],
        (text) => checkMerge(text, distinct.length, o),
        {
          params,
          attempts: o.attempts,
          // After earlier failed tries, new samples rather than the cached rejected answers.
          sampleBase: tries * o.attempts,
          context: { runId: id, stage: "merge" },
          ...(o.signal ? { signal: o.signal } : {}),
        },
      );
    } catch (e) {
      if (e instanceof NoValidAnswer) {
        store.items.put(id, {
          key: `${mergeKey}:failed`,
          stage: "merge-failures",
          status: "ok",
          value: tries + 1,
          error: null,
          attempts: e.attempts.length,
        });
        throw new SpecsciError(
          `discovery: ${o.model} could not merge the ${distinct.length} drivers into categories: ${e.lastProblem}`,
          {
            hint: "run again for fresh answers, set the bounds on the number of categories (--min-categories, --max-categories), or use another model",
          },
        );
      }
      throw e;
    }
    categories = r.value;
    store.items.put(id, {
      key: mergeKey,
      stage: "merge",
      status: "ok",
      value: categories,
      error: null,
      attempts: r.attempts.length,
    });
  }

  // (3) Every transcript against the discovered categories.
  const first = taxonomyOf(categories, "discovered");
  const labelled = await labelRuns(client, runIds, {
    ...o,
    labellers: [o.model],
    repeats: 1,
    taxonomy: first,
  });

  // (4) Categories that co-occur on most of the smaller one's transcripts become one.
  const { taxonomy, merges } = mergeOverlapping(labelled, o.overlap);
  saveTaxonomy(store, taxonomy, {
    runs: runIds,
    model: o.model,
    drivers: drivers.length,
    before_merge: first.version,
    merges,
  });
  return { taxonomy, drivers: drivers.length, failedTranscripts, merges, labelled };
}

export class NoDrivers extends SpecsciError {
  constructor(failed: number, total: number) {
    super(
      `discovery: no drivers could be read from any of ${total} transcript(s) (${failed} failed)`,
      {
        hint: "check the model with `specsci models test`; failed calls are retried by the next run",
      },
    );
    this.name = "NoDrivers";
  }
}

function checkMerge(
  text: string,
  count: number,
  o: Pick<DiscoveryOptions, "minCategories" | "maxCategories">,
): { ok: ReasoningCategory[] } | { problem: string } {
  const j = taggedJson(text, "categories");
  if ("problem" in j) return j;
  const p = Merged.safeParse(j.value);
  if (!p.success) return { problem: "each category needs id, name, kind, description and drivers" };
  const cats = p.data.categories;
  if (cats.length < o.minCategories || cats.length > o.maxCategories)
    return {
      problem: `make between ${o.minCategories} and ${o.maxCategories} categories (not ${cats.length})`,
    };
  const used = new Set<number>();
  const ids = new Set<string>();
  for (const c of cats) {
    const valid = ReasoningCategory.safeParse({
      id: c.id,
      name: c.name,
      kind: c.kind,
      description: c.description,
    });
    if (!valid.success) return { problem: `category "${c.id}": ${valid.error.issues[0]?.message}` };
    if (ids.has(c.id)) return { problem: `the id "${c.id}" is used twice` };
    ids.add(c.id);
    for (const n of c.drivers) {
      if (n < 1 || n > count) return { problem: `there is no driver ${n}` };
      if (used.has(n)) return { problem: `driver ${n} is in two categories` };
      used.add(n);
    }
  }
  return { ok: cats.map(({ drivers: _, ...c }) => c) };
}

/**
 * Merges categories that co-occur: largest first, each category joins the group of the first
 * larger one of the same kind whose transcripts cover more than `threshold` of its own
 * (|A∩B| / |A|, A the smaller) and that has at least `minSupport` transcripts itself. A category
 * is compared with group heads only, so a chain of partial overlaps never joins two categories that
 * do not overlap, and an aligned pattern never folds into a misaligned one.
 */
export function mergeOverlapping(
  labelled: LabelledRuns,
  threshold: number,
  minSupport = 2,
): { taxonomy: Taxonomy; merges: Discovery["merges"] } {
  const cats = labelled.taxonomy.categories;
  const sets = new Map(cats.map((c) => [c.id, new Set<string>()]));
  for (const item of labelled.items) {
    const l = item.labels[labelled.primary];
    if (l?.status === "ok")
      for (const c of l.value.categories) sets.get(c.id)?.add(`${item.runId}/${item.key}`);
  }
  const size = (id: string) => sets.get(id)?.size ?? 0;
  const order = [...cats].sort((a, b) => size(b.id) - size(a.id) || a.id.localeCompare(b.id));
  const groups: {
    head: ReasoningCategory;
    members: { c: ReasoningCategory; overlap: number }[];
  }[] = [];
  for (const c of order) {
    const own = sets.get(c.id) as Set<string>;
    const home =
      own.size >= minSupport
        ? groups.find((g) => {
            if (g.head.kind !== c.kind) return false;
            let both = 0;
            for (const k of own) if (sets.get(g.head.id)?.has(k)) both++;
            return both / own.size > threshold;
          })
        : undefined;
    if (home) {
      let both = 0;
      for (const k of own) if (sets.get(home.head.id)?.has(k)) both++;
      home.members.push({ c, overlap: both / own.size });
    } else groups.push({ head: c, members: [] });
  }
  const merges: Discovery["merges"] = [];
  // The taxonomy keeps the categories' original order.
  const final = cats.flatMap((c) => {
    const g = groups.find((x) => x.head.id === c.id);
    if (!g) return [];
    if (!g.members.length) return [c];
    merges.push({
      into: c.id,
      from: g.members.map((m) => m.c.id),
      overlap: Math.min(...g.members.map((m) => m.overlap)),
    });
    return [
      {
        ...c,
        description: `${c.description} Also: ${g.members.map((m) => m.c.description).join(" ")}`,
      },
    ];
  });
  return { taxonomy: taxonomyOf(final, "discovered"), merges };
}

export const taxonomyKey = (version: string) => `taxonomy:${version}`;

export function saveTaxonomy(store: Store, taxonomy: Taxonomy, provenance: unknown): void {
  store.artifacts.put(
    taxonomyKey(taxonomy.version),
    "taxonomy",
    JSON.stringify({ ...taxonomy, provenance }),
    { source: taxonomy.source },
  );
}

export function storedTaxonomy(store: Store, version: string): Taxonomy | undefined {
  const a = store.artifacts.get(taxonomyKey(version));
  if (!a) return undefined;
  const t = JSON.parse(a.content) as Taxonomy;
  return { source: t.source, categories: t.categories, version: t.version };
}
