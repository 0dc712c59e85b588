/**
 * The Data page's data: the MSM corpora and AFT chat sets the store's experiments train on (the
 * directories their training data steps write, `armData`, and those `specsci run` recorded),
 * read from the files the data modules write: each directory's manifest, its JSONL lines paged
 * by a line index, corpus statistics from `corpusStats` (as `msm stats`), and two corpora side by
 * side from `compareCorpora` (as `msm compare`). A directory is named in URLs by a hash of its
 * path, so a request can only ever reach a directory the store knows of.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { SpecsciError } from "../core/errors.js";
import { sha256Hex } from "../core/hash.js";
import { type CorpusStats, corpusStats } from "../data/corpus-stats.js";
import type { Duplicate } from "../data/dedup/index.js";
import { AFT_MANIFEST_FORMAT, MSM_MANIFEST_FORMAT, SET_FILES } from "../data/manifest.js";
import { compareCorpora, tokenShares } from "../data/msm/compare.js";
import { GATES } from "../data/msm/gates.js";
import { isTrained } from "../experiment/config.js";
import { armDataAllBases } from "../experiment/training.js";
import type { RunRecord, Store } from "../store/index.js";
import type {
  ChatMessage,
  DataCompareResponse,
  DataItem,
  DataItemRow,
  DataItemsPage,
  DataKind,
  DataMadeBy,
  DataManifestView,
  DataSetResponse,
  DataSetSummary,
  DataSetsResponse,
} from "./api-types.js";
import type { ExperimentIndex } from "./experiments.js";
import { JsonlIndexCache } from "./jsonl-lines.js";

export const DATA_PAGE_MAX = 200;

/** What `specsci run` records of the data it made (older stores lack it). */
interface RecordedData {
  data?: { dir: string; kind: DataKind; run?: string }[];
}

interface KnownSet {
  id: string;
  dir: string;
  kind: DataKind;
  spec: string | null;
  usedBy: { experiment: string; arm: string }[];
  /** Made by `specsci msm build` or `aft build` outside any experiment (null: an experiment's). */
  madeBy: DataMadeBy | null;
}

/**
 * Where `msm build` and `aft build` write when not given `-o`: `corpora/NAME` and
 * `chatsets/NAME` in the directory they run in, the one that holds the default workspace
 * (`.specsci`). The store records their runs (kind msm or aft, by corpus or set id) and, since
 * writes record them, the directories written to (`-o` included); a run with none recorded (an
 * older store) is found here by the id its manifest names.
 */
const BUILD_DIRS = { msm: "corpora", aft: "chatsets" } as const;
const MANIFEST_ID = { msm: "corpus_id", aft: "set_id" } as const;

/** The corpus, chat-set or mix id a data directory's manifest names (null: none readable). */
function manifestId(
  dir: string,
  keys: readonly string[] = ["corpus_id", "set_id", "mix_id"],
): string | null {
  try {
    const m = obj(JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")));
    for (const key of keys) if (str(m[key])) return str(m[key]);
    return null;
  } catch {
    return null; // not made yet, or not a data directory of ours
  }
}

/**
 * The newest directory a build's run recorded writing to (`-o` anywhere) that still holds its
 * manifest; null when none does (moved, deleted, or a store from before outputs were recorded).
 */
function recordedOutput(run: RunRecord, kind: "msm" | "aft"): string | null {
  const outputs = (run.config as { outputs?: unknown } | null)?.outputs;
  if (!Array.isArray(outputs)) return null;
  const found = outputs
    .map(String)
    .filter((dir) => manifestId(dir, [MANIFEST_ID[kind]]) === run.id);
  return found.at(-1) ?? null;
}

/** The directories under `root/corpora` (or `chatsets`) by the corpus (set) id their manifest names. */
function builtDirs(root: string, kind: "msm" | "aft"): Map<string, string> {
  const parent = join(root, BUILD_DIRS[kind]);
  const out = new Map<string, string>();
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return out; // no such directory: nothing built there
  }
  for (const name of names.sort()) {
    // A mix (`aft mix -o chatsets/…`) names a mix_id: not an `aft build`, so not listed here.
    const id = manifestId(join(parent, name), [MANIFEST_ID[kind]]);
    if (id && !out.has(id)) out.set(id, join(parent, name));
  }
  return out;
}

export const dataSetId = (dir: string) => sha256Hex(`data-dir:${dir}`).slice(0, 16);

type Json = Record<string, unknown>;
const obj = (v: unknown): Json =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {};
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const numOrNull = (v: unknown): number | null => (typeof v === "number" ? v : null);

function readManifest(dir: string): Json {
  const file = join(dir, "manifest.json");
  try {
    return obj(JSON.parse(readFileSync(file, "utf8")));
  } catch (e) {
    throw new SpecsciError(`${file} cannot be read as JSON: ${(e as Error).message}`, {
      hint: "make the data again (`specsci run`, or the data step's command in `specsci plan`)",
    });
  }
}

/** The line file a page reads: the corpus, or one of a chat set's two forms. */
function linesFile(set: KnownSet, form: "reasoning" | "plain"): string {
  return join(set.dir, set.kind === "msm" ? "dataset.jsonl" : SET_FILES[form]);
}

/** Gates every kept document passed (all that applied), and those that did not apply, with why. */
function msmGates(m: Json): Pick<DataManifestView, "gatesPassed" | "gatesNotApplied"> {
  const config = obj(m.config);
  const gates = obj(config.gates);
  const skipped = (Array.isArray(m.skipped_gates) ? m.skipped_gates : []).filter(
    (s): s is string => typeof s === "string",
  );
  const notApplied = [...skipped];
  const passed: string[] = GATES.filter((g) => {
    if (g === "off_topic") {
      if (gates.relevance === false) notApplied.push("off_topic: gates.relevance is off");
      return gates.relevance !== false && !skipped.some((s) => s.startsWith("off_topic"));
    }
    if (g === "judge_rejected" || g === "judge_failed") return gates.judge !== undefined;
    return true;
  });
  if (gates.judge === undefined) notApplied.push("judge: no gates.judge model was set");
  const dedup = obj(config.dedup);
  if (dedup.exact !== false) passed.push("exact_duplicate");
  if (dedup.near !== false) passed.push("near_duplicate");
  const contamination = obj(m.contamination);
  if (contamination.enforced === true) passed.push("contamination");
  return { gatesPassed: passed, gatesNotApplied: notApplied };
}

function manifestView(kind: DataKind, m: Json): DataManifestView {
  const counts = (v: unknown) =>
    Object.entries(obj(v)).flatMap(([name, n]) => (typeof n === "number" ? [{ name, n }] : []));
  const models = Object.entries(obj(m.models)).map(([stage, s]) => ({
    stage,
    model: str(obj(s).model) ?? "",
  }));
  const composition = (Array.isArray(m.composition) ? m.composition : []).map((c) => ({
    source: str(obj(c).source) ?? "?",
    examples: numOrNull(obj(c).examples) ?? 0,
  }));
  const base: DataManifestView = {
    format: str(m.format) ?? "?",
    id: str(m.corpus_id) ?? str(m.set_id) ?? str(m.mix_id),
    created: str(m.created),
    models,
    tree: counts(kind === "msm" ? m.tree : { domains: m.domains, waves: m.waves }),
    removed: counts(m.gates),
    gatesPassed: [],
    gatesNotApplied: [],
    dedup: null,
    composition,
    notes: [],
  };
  if (kind === "msm") {
    const dedup = obj(m.dedup);
    const truncation = obj(m.truncation);
    const budget = obj(m.budget);
    const contamination = obj(m.contamination);
    base.dedup = {
      exact: numOrNull(dedup.exact) ?? 0,
      near: numOrNull(dedup.near) ?? 0,
      threshold: numOrNull(obj(dedup.params).threshold),
    };
    Object.assign(base, msmGates(m));
    base.notes.push(
      `${numOrNull(obj(m.documents).generated) ?? "?"} documents generated, ${numOrNull(obj(m.documents).kept) ?? "?"} kept`,
      `truncation: ${(((numOrNull(truncation.rate) ?? 0) as number) * 100).toFixed(1)}% of documents hit the output budget once, ${numOrNull(truncation.regenerated) ?? 0} regenerated`,
      budget.target_tokens
        ? `budget: target ${budget.target_tokens} tokens, ${budget.trimmed_documents ?? 0} documents trimmed${budget.reached === false ? " (not reached)" : ""}`
        : "budget: none",
      m.contamination
        ? `contamination (${str(contamination.source) ?? "?"}, ${contamination.ngram}-grams): ${contamination.documents} documents overlap${contamination.enforced ? " (dropped)" : ", kept"}`
        : "contamination: not checked",
    );
  } else if (kind === "aft") {
    const written = obj(m.prompts_written);
    const selection = obj(m.selection);
    base.gatesPassed = Object.keys(obj(m.gates));
    base.dedup = {
      exact: numOrNull(written.exact_duplicates) ?? 0,
      near: numOrNull(written.near_duplicates) ?? 0,
      threshold: null,
    };
    base.notes.push(
      `${written.written ?? "?"} prompts written, ${written.unique ?? "?"} unique (duplicates are removed among prompts)`,
      `${m.passing ?? "?"} responses passed the judge; ${selection.selected ?? "?"} selected (${selection.tokens_reasoning ?? "?"} tokens with reasoning, ${selection.tokens_plain ?? "?"} without)`,
    );
  } else {
    base.notes.push(
      `a mix of ${composition.map((c) => `${c.examples} ${c.source}`).join(", ")} (no model calls): its examples keep the provenance of the sets they came from`,
    );
  }
  return base;
}

const kindOf = (m: Json, fallback: DataKind): DataKind =>
  m.format === MSM_MANIFEST_FORMAT
    ? "msm"
    : m.format === AFT_MANIFEST_FORMAT
      ? m.mix_id
        ? "mix"
        : "aft"
      : fallback;

/** A document's or chat's provenance as the page lists it, from one line of the file. */
function itemPath(kind: DataKind, line: Json): { level: string; values: string[] }[] {
  const one = (level: string, v: unknown) => {
    const s = str(v);
    return s === null ? [] : [{ level, values: [s] }];
  };
  if (kind !== "msm") return [...one("domain", line.domain), ...one("category", line.category)];
  const ids = (Array.isArray(line.assertion_ids) ? line.assertion_ids : []).map(String);
  const labels = (Array.isArray(line.assertion_labels) ? line.assertion_labels : []).map(String);
  const idea = obj(line.idea);
  return [
    ...one("domain", line.domain),
    ...one("subdomain", line.subdomain),
    { level: "assertion", values: ids.map((id, i) => (labels[i] ? `${id} (${labels[i]})` : id)) },
    ...one("doc type", line.doc_type),
    {
      level: "idea",
      values: [str(idea.summary), str(idea.author), str(idea.situation)].filter(
        (x): x is string => x !== null,
      ),
    },
  ];
}

function messagesOf(line: Json): ChatMessage[] {
  return (Array.isArray(line.messages) ? line.messages : []).map((m) => ({
    role: str(obj(m).role) ?? "?",
    content: str(obj(m).content) ?? JSON.stringify(obj(m).content ?? null),
  }));
}

function preview(kind: DataKind, line: Json): string {
  if (kind === "msm") return (str(line.text) ?? "").slice(0, 240);
  const user = messagesOf(line).find((m) => m.role === "user");
  return (user?.content ?? "").slice(0, 240);
}

function parseLine(file: string, index: number, text: string): Json {
  try {
    return obj(JSON.parse(text));
  } catch (e) {
    throw new SpecsciError(`${file}:${index + 1}: not JSON (${(e as Error).message})`, {
      hint: "make the data again: a data directory is written whole by specsci",
    });
  }
}

type Missing = { missing: string };

export class DataIndex {
  private readonly lines = new JsonlIndexCache();
  private readonly stats = new Map<string, { stamp: string; stats: Promise<CorpusStats> }>();
  private readonly clusters = new Map<
    string,
    { stamp: string; byKept: Map<string, Duplicate[]> }
  >();

  constructor(
    private readonly experiments: ExperimentIndex,
    private readonly store: Store,
  ) {}

  /** Every data directory the store's experiments make or made, by id. */
  private async known(): Promise<Map<string, KnownSet>> {
    const sets = new Map<string, KnownSet>();
    const add = (
      experiment: string,
      arm: string,
      dir: string,
      kind: DataKind,
      spec: string | null,
    ) => {
      const id = dataSetId(dir);
      const set = sets.get(id) ?? { id, dir, kind, spec, usedBy: [], madeBy: null };
      if (!set.usedBy.some((u) => u.experiment === experiment && u.arm === arm))
        set.usedBy.push({ experiment, arm });
      sets.set(id, set);
    };
    const experimentRuns = new Set<string>();
    for (const id of this.experiments.ids()) {
      const got = await this.experiments.rebuilt(id);
      if (!got) continue;
      if ("loaded" in got.rebuilt)
        for (const arm of got.rebuilt.loaded.experiment.arms.filter(isTrained))
          for (const step of armDataAllBases(got.rebuilt.loaded, arm))
            add(id, arm.name, step.dir, step.kind, step.spec ?? null); // a mix: its aligned set's
      for (const d of (got.run.config as RecordedData).data ?? []) {
        if (d.run) experimentRuns.add(d.run);
        if (!sets.has(dataSetId(d.dir))) add(id, "", d.dir, d.kind, null);
      }
    }
    // An experiment's data steps are msm and aft runs too: those are listed as its.
    for (const set of sets.values()) {
      const made = manifestId(set.dir);
      if (made) experimentRuns.add(made);
    }
    this.addBuilds(sets, experimentRuns);
    return sets;
  }

  /**
   * Corpora and chat sets `specsci msm build` and `aft build` made outside any experiment: the
   * store's runs of those kinds, each at the directory whose manifest names its id (see
   * BUILD_DIRS), and the directories there whose run this store does not hold.
   */
  private addBuilds(sets: Map<string, KnownSet>, experimentRuns: Set<string>): void {
    const root = dirname(resolve(this.store.dir));
    for (const kind of ["msm", "aft"] as const) {
      const dirs = builtDirs(root, kind);
      const command = `specsci ${kind} build`;
      const add = (dir: string, madeBy: DataMadeBy) => {
        const id = dataSetId(dir);
        if (!sets.has(id)) sets.set(id, { id, dir, kind, spec: null, usedBy: [], madeBy });
      };
      for (const run of this.store.runs.ofKind(kind)) {
        if (experimentRuns.has(run.id)) continue;
        const dir = recordedOutput(run, kind) ?? dirs.get(run.id);
        dirs.delete(run.id);
        const at = { run: run.id, status: run.status, started: run.createdAt, recorded: true };
        if (dir) add(dir, { command, ...at, where: null });
        else
          add(join(root, BUILD_DIRS[kind], run.name ?? run.id), {
            command,
            ...at,
            where: `no directory under ${join(root, BUILD_DIRS[kind])} holds its manifest (${MANIFEST_ID[kind]} ${run.id}), nor does any directory its run recorded writing to: it was moved, deleted, or not written`,
          });
      }
      for (const [id, dir] of dirs)
        if (!experimentRuns.has(id))
          add(dir, { command, run: id, status: null, started: null, recorded: false, where: null });
    }
  }

  private summary(set: KnownSet): DataSetSummary {
    const base: DataSetSummary = {
      id: set.id,
      kind: set.kind,
      dir: set.dir,
      name: set.dir.split("/").at(-1) ?? set.dir,
      spec: set.spec === null ? null : { name: set.spec, hash: null },
      usedBy: set.usedBy,
      madeBy: set.madeBy,
      items: null,
      tokens: null,
      made: false,
      problem: null,
    };
    if (set.madeBy?.where) return { ...base, problem: set.madeBy.where };
    if (!existsSync(join(set.dir, "manifest.json")))
      return { ...base, problem: "not made yet: `specsci run` makes it" };
    let m: Json;
    try {
      m = readManifest(set.dir);
    } catch (e) {
      return { ...base, problem: (e as Error).message };
    }
    const kind = kindOf(m, set.kind);
    const spec = obj(m.spec);
    const selection = obj(m.selection);
    return {
      ...base,
      kind,
      name: str(m.name) ?? base.name,
      spec:
        str(spec.name) !== null
          ? { name: set.spec ?? (str(spec.name) as string), hash: str(spec.hash) }
          : base.spec,
      made: true,
      items:
        kind === "msm"
          ? numOrNull(obj(m.documents).kept)
          : kind === "aft"
            ? numOrNull(selection.selected)
            : numOrNull(m.examples),
      tokens:
        kind === "msm" ? numOrNull(obj(m.tokens).total) : numOrNull(selection.tokens_reasoning),
    };
  }

  async list(): Promise<DataSetsResponse> {
    return { sets: [...(await this.known()).values()].map((s) => this.summary(s)) };
  }

  private async made(
    id: string,
  ): Promise<{ set: KnownSet; m: Json; summary: DataSetSummary } | Missing> {
    const set = (await this.known()).get(id);
    if (!set) return { missing: `no data set ${id} in this store's experiments or builds` };
    const summary = this.summary(set);
    if (!summary.made) return { missing: `data set ${summary.name}: ${summary.problem}` };
    return { set: { ...set, kind: summary.kind }, m: readManifest(set.dir), summary };
  }

  async detail(id: string): Promise<DataSetResponse | Missing> {
    const got = await this.made(id);
    if ("missing" in got) return got;
    const { set, m, summary } = got;
    return {
      summary,
      manifest: manifestView(set.kind, m),
      stats: set.kind === "msm" ? await this.corpusStats(linesFile(set, "reasoning")) : null,
      forms: set.kind === "msm" ? [] : ["reasoning", "plain"],
    };
  }

  /** corpusStats of a corpus file, computed once per version of the file. */
  private corpusStats(file: string): Promise<CorpusStats> {
    const s = statSync(file);
    const stamp = `${s.size}:${s.mtimeMs}`;
    const hit = this.stats.get(file);
    if (hit?.stamp === stamp) return hit.stats;
    const stats = corpusStats(file);
    this.stats.set(file, { stamp, stats });
    stats.catch(() => this.stats.delete(file));
    return stats;
  }

  /** The removed duplicates of each kept document (its dedup cluster), from duplicates.jsonl. */
  private duplicatesOf(dir: string): Map<string, Duplicate[]> {
    const file = join(dir, "duplicates.jsonl");
    if (!existsSync(file)) return new Map();
    const s = statSync(file);
    const stamp = `${s.size}:${s.mtimeMs}`;
    const hit = this.clusters.get(file);
    if (hit?.stamp === stamp) return hit.byKept;
    const byKept = new Map<string, Duplicate[]>();
    for (const [i, text] of readFileSync(file, "utf8").split("\n").entries()) {
      if (!text.trim()) continue;
      const d = parseLine(file, i, text) as unknown as Duplicate;
      byKept.set(d.keptId, [...(byKept.get(d.keptId) ?? []), d]);
    }
    this.clusters.set(file, { stamp, byKept });
    return byKept;
  }

  async items(
    id: string,
    o: { offset: number; limit: number; form: "reasoning" | "plain" },
  ): Promise<DataItemsPage | Missing> {
    const started = performance.now();
    const got = await this.made(id);
    if ("missing" in got) return got;
    const file = linesFile(got.set, o.form);
    const lines = await this.lines.lines(file);
    const limit = Math.min(o.limit, DATA_PAGE_MAX);
    const texts = await lines.read(o.offset, limit);
    const rows = texts.map((text, i): DataItemRow => {
      const index = o.offset + i;
      const line = parseLine(file, index, text);
      return {
        index,
        id: str(line.id) ?? String(index),
        preview: preview(got.set.kind, line),
        path: itemPath(got.set.kind, line).map((p) => p.values.join("; ")),
        tokens: numOrNull(line.token_count),
        source: str(line.source),
      };
    });
    return {
      rows,
      total: lines.count,
      offset: o.offset,
      limit,
      ms: performance.now() - started,
    };
  }

  async item(id: string, index: number, form: "reasoning" | "plain"): Promise<DataItem | Missing> {
    const got = await this.made(id);
    if ("missing" in got) return got;
    const { set, m } = got;
    const file = linesFile(set, form);
    const lines = await this.lines.lines(file);
    const [text] = await lines.read(index, 1);
    if (text === undefined)
      return { missing: `data set ${got.summary.name} has ${lines.count} items: no item ${index}` };
    const line = parseLine(file, index, text);
    const itemId = str(line.id) ?? String(index);
    const contamination = obj(m.contamination);
    const flagged = (Array.isArray(contamination.examples) ? contamination.examples : []).find(
      (x) => obj(x).id === itemId,
    );
    const judge = obj(line.judge);
    // Every kept example passed all of its set's gates; a mix's come from the sets it mixes.
    const gates =
      set.kind === "msm"
        ? msmGates(m).gatesPassed
        : set.kind === "aft"
          ? Object.keys(obj(m.gates))
          : [];
    return {
      index,
      id: itemId,
      kind: set.kind,
      text: set.kind === "msm" ? (str(line.text) ?? "") : null,
      messages: set.kind === "msm" ? null : messagesOf(line),
      specHash: str(line.spec_hash),
      specName: str(line.spec_name),
      ruleIds: (Array.isArray(line.rule_ids) ? line.rule_ids : []).map(String),
      path: itemPath(set.kind, line),
      tokens: numOrNull(line.token_count),
      tokenizer: str(line.tokenizer) ?? str(obj(m.tokens).tokenizer),
      source: str(line.source),
      gatesPassed: gates,
      judge: Object.keys(judge).length ? judge : null,
      duplicates:
        set.kind === "msm"
          ? (this.duplicatesOf(set.dir).get(itemId) ?? []).map((d) => ({
              id: d.id,
              kind: d.kind,
              similarity: d.similarity,
            }))
          : [],
      contamination: flagged
        ? (Array.isArray(obj(flagged).ngrams) ? (obj(flagged).ngrams as unknown[]) : []).map(String)
        : null,
      fields: Object.fromEntries(
        Object.entries(line).filter(([k]) => k !== "text" && k !== "messages"),
      ),
    };
  }

  /** Two corpora as `msm compare` shows them, with their domain and type mixes. */
  async compare(a: string, b: string, tolerance: number): Promise<DataCompareResponse | Missing> {
    const sets: [KnownSet, KnownSet] | Missing = await (async () => {
      const out: KnownSet[] = [];
      for (const id of [a, b]) {
        const got = await this.made(id);
        if ("missing" in got) return got;
        if (got.set.kind !== "msm")
          throw new SpecsciError(
            `data set ${got.summary.name} is an AFT chat set: \`msm compare\` compares MSM corpora`,
          );
        out.push(got.set);
      }
      return out as [KnownSet, KnownSet];
    })();
    if ("missing" in sets) return sets;
    const comparison = compareCorpora(sets[0].dir, sets[1].dir, tolerance);
    return {
      ids: [a, b],
      comparison,
      mixes: {
        domains: { a: tokenShares(comparison.a.byDomain), b: tokenShares(comparison.b.byDomain) },
        docTypes: {
          a: tokenShares(comparison.a.byDocType),
          b: tokenShares(comparison.b.byDocType),
        },
      },
    };
  }
}
