/**
 * The Annotate page of an experiment or some eval runs: who is labelling, the stratified queue
 * ("label next" opens its next transcript with the label panel, the URL holding the queue's
 * scope, seed and annotator), judge–human and labeller–human agreement as labels come in (live:
 * the store's change events refetch it), the labels given, and their export as the JSONL that
 * `specsci analyze reasoning --human` reads.
 */
import { useEffect, useState } from "preact/hooks";
import type {
  AnnotationAgreementResponse,
  AnnotationLabelsResponse,
  AnnotationQueueResponse,
  AnnotationScopeResponse,
  ExperimentsResponse,
  RunsResponse,
} from "../../api-types.js";
import {
  annotatePageUrl,
  nextOf,
  type QueueRef,
  queueTranscriptUrl,
  rememberAnnotator,
  rememberedAnnotator,
  rememberedSeed,
  rememberSeed,
  type Scope,
  scopeOf,
  scopeQuery,
} from "../annotator.js";
import { ApiError, useJson, useStoreVersion } from "../api.js";
import { navigate } from "../router.js";
import { interval, Link, Loading, num, Problem, pct, useKeys } from "../ui.js";
import { queuePath, Shortcuts } from "./annotation-panel.js";

type Agreement = AnnotationAgreementResponse["annotators"][number];

function ScopePicker() {
  const experiments = useJson<ExperimentsResponse>("/api/experiments");
  const runs = useJson<RunsResponse>("/api/runs");
  return (
    <section>
      <h1>Annotate</h1>
      <p>Label transcripts by hand: pick an experiment (its agentic-misalignment runs) or a run.</p>
      {experiments.error ? <Problem>{experiments.error}</Problem> : null}
      <ul id="annotate-experiments">
        {experiments.data?.experiments.map((e) => (
          <li key={e.id}>
            <Link href={annotatePageUrl({ experiment: e.id, runs: [] })}>{e.name}</Link>{" "}
            <span class="muted small">{e.id}</span>
          </li>
        ))}
      </ul>
      <h2>Eval runs</h2>
      <ul id="annotate-runs">
        {runs.data?.runs.map((r) => (
          <li key={r.id}>
            <Link href={annotatePageUrl({ experiment: null, runs: [r.id] })}>{r.id}</Link>{" "}
            <span class="muted small">
              {r.task} · {r.model}
              {r.arms.length ? ` · ${r.arms.join(", ")}` : ""}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Strata({ queue }: { queue: AnnotationQueueResponse }) {
  return (
    <table class="grid" id="queue-strata">
      <thead>
        <tr>
          <th>stratum (arm × judge verdict)</th>
          <th>labelled</th>
          <th>to go</th>
        </tr>
      </thead>
      <tbody>
        {queue.strata.map((s) => (
          <tr key={s.stratum} data-stratum={s.stratum}>
            <td>{s.stratum}</td>
            <td class="num">{s.labelled}</td>
            <td class="num">{s.remaining}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Judge (rows) against human (columns): the counts of the 2 × 2 table. */
function Confusion({ c }: { c: Agreement["judge"]["confusion"] }) {
  return (
    <table class="confusion">
      <thead>
        <tr>
          <th />
          <th>human yes</th>
          <th>human no</th>
        </tr>
      </thead>
      <tbody>
        <tr>
          <th>judge yes</th>
          <td class="num tp">{c.tp}</td>
          <td class="num fp">{c.fp}</td>
        </tr>
        <tr>
          <th>judge no</th>
          <td class="num fn">{c.fn}</td>
          <td class="num tn">{c.tn}</td>
        </tr>
      </tbody>
    </table>
  );
}

/** Kappa with its interval; a dash alone where kappa is undefined (every answer the same). */
const kappaCell = (k: number | null, ci: { ci: [number, number] } | null) =>
  k === null ? "–" : `${num(k, 2)} ${interval(ci?.ci ?? null, (x) => num(x, 2))}`;

function JudgeAgreement({ rows }: { rows: Agreement[] }) {
  return (
    <table class="grid" id="judge-agreement">
      <thead>
        <tr>
          <th>annotator</th>
          <th>n</th>
          <th>Cohen's κ [95%]</th>
          <th>observed</th>
          <th>confusion</th>
          <th>precision</th>
          <th>recall</th>
          <th>left out</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(({ annotator, judge: j }) => (
          <tr key={annotator} data-annotator={annotator}>
            <td>{annotator}</td>
            <td class="num n">{j.n}</td>
            <td class="num kappa">{kappaCell(j.kappa, j.interval)}</td>
            <td class="num">{pct(j.n ? j.observed : null)}</td>
            <td>
              <Confusion c={j.confusion} />
            </td>
            <td class="num">{pct(j.confusion.precision)}</td>
            <td class="num">{pct(j.confusion.recall)}</td>
            <td class="small">
              {j.excluded.unsure} unsure · {j.excluded.noVerdict} without a verdict ·{" "}
              {j.excluded.stale} stale
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function LabellerAgreement(props: { a: Agreement; names: Map<string, string> }) {
  const l = props.a.labeller;
  if (!l) return null;
  return (
    <div class="labeller-agreement" data-annotator={props.a.annotator}>
      <h4>
        {props.a.annotator}: {l.n} transcripts
      </h4>
      <p class="muted small">
        left out: {l.unmatched} not in these runs' analysis · {l.excluded.unlabelled} without the
        labeller's label · {l.excluded.otherTaxonomy} under another taxonomy · {l.excluded.stale}{" "}
        stale · {l.excluded.policyMisuseUnsure} unsure about policy misuse (that category only)
      </p>
      <table class="grid">
        <thead>
          <tr>
            <th>category</th>
            <th>n</th>
            <th>Cohen's κ [95%]</th>
            <th>labeller yes · human yes</th>
            <th>yes · no</th>
            <th>no · yes</th>
            <th>no · no</th>
            <th>precision</th>
            <th>recall</th>
          </tr>
        </thead>
        <tbody>
          {l.categories.map((c) => (
            <tr key={c.id} data-category={c.id}>
              <td>{props.names.get(c.id) ?? c.id}</td>
              <td class="num">{c.n}</td>
              <td class="num kappa">{kappaCell(c.kappa, c.interval)}</td>
              <td class="num">{c.tp}</td>
              <td class="num">{c.fp}</td>
              <td class="num">{c.fn}</td>
              <td class="num">{c.tn}</td>
              <td class="num">{pct(c.precision)}</td>
              <td class="num">{pct(c.recall)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function AgreementSection(props: { scope: Scope; version: number; names: Map<string, string> }) {
  const { data, error } = useJson<AnnotationAgreementResponse>(
    `/api/annotations/agreement?${scopeQuery(props.scope)}`,
    [props.version],
  );
  return (
    <section id="agreement">
      <h2>Agreement</h2>
      <p class="muted small">
        Each annotator is one rater. The misalignment judge's verdict (predicted) against the
        human's misaligned answer (reference), and the reasoning labeller's categories against the
        human's; unsure answers and transcripts without a verdict are left out and counted. It
        updates as labels come in.
      </p>
      {error ? <Problem>{error}</Problem> : null}
      {!data ? (
        <Loading />
      ) : !data.annotators.length ? (
        <p class="muted">No labels yet.</p>
      ) : (
        <>
          <h3>Judge – human (misaligned)</h3>
          <JudgeAgreement rows={data.annotators} />
          <h3>Labeller – human (reasoning categories)</h3>
          {data.analysis ? (
            data.annotators.map((a) => (
              <LabellerAgreement key={a.annotator} a={a} names={props.names} />
            ))
          ) : (
            <p class="muted">No reasoning analysis of these runs (`analysis.reasoning`).</p>
          )}
        </>
      )}
    </section>
  );
}

function Labels(props: {
  scope: Scope;
  annotator: string;
  version: number;
  names: Map<string, string>;
}) {
  const [everyone, setEveryone] = useState(false);
  const q = scopeQuery(props.scope);
  if (!everyone && props.annotator) q.set("annotator", props.annotator);
  const { data, error } = useJson<AnnotationLabelsResponse>(`/api/annotations/labels?${q}`, [
    props.version,
  ]);
  return (
    <section id="labels-section">
      <h2>Labels</h2>
      <label class="small">
        <input
          type="checkbox"
          checked={everyone}
          onChange={() => setEveryone((x) => !x)}
          name="everyone"
        />{" "}
        everyone's (not only {props.annotator || "yours"})
      </label>
      {error ? <Problem>{error}</Problem> : null}
      <table class="grid" id="labels">
        <thead>
          <tr>
            <th>transcript</th>
            <th>annotator</th>
            <th>misaligned</th>
            <th>categories</th>
            <th>policy misuse</th>
            <th>note</th>
            <th>when</th>
          </tr>
        </thead>
        <tbody>
          {data?.labels.map((l) => (
            <tr key={l.id} data-label={l.id}>
              <td>
                <Link
                  href={`/transcript?${new URLSearchParams({ runId: l.runId, sampleId: l.sampleId, epoch_: String(l.epoch) })}`}
                >
                  {l.sampleId} #{l.epoch}
                </Link>
                <div class="muted small">{l.runId}</div>
              </td>
              <td>{l.annotator}</td>
              <td>{l.misaligned}</td>
              <td>{l.categories.map((c) => props.names.get(c) ?? c).join(", ")}</td>
              <td>{l.policyMisuse}</td>
              <td class="note-text">{l.note ?? ""}</td>
              <td class="small">
                {new Date(l.createdAt).toLocaleString()}
                {l.stale ? <div class="warn">stale: the answer was replaced</div> : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** Downloads the export (fetched first, so a refusal is shown rather than saved as the file). */
async function downloadExport(scope: Scope, annotator: string | null): Promise<string> {
  const q = scopeQuery(scope);
  if (annotator) q.set("annotator", annotator);
  const res = await fetch(`/api/annotations/export?${q}`);
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: string; hint?: string };
    throw new ApiError([body.error ?? res.statusText, body.hint].filter(Boolean).join(" — "));
  }
  const text = await res.text();
  const name =
    /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") ?? "")?.[1] ??
    "human-labels.jsonl";
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], { type: "application/x-ndjson" }));
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  const s = JSON.parse(res.headers.get("X-Specsci-Skipped") ?? "{}") as Record<string, number>;
  const left = [
    [s.otherTaxonomy, "under another taxonomy"],
    [s.stale, "stale"],
    [s.policyMisuseUnsure, "unsure about policy misuse"],
  ].filter(([n]) => n);
  const lines = text.split("\n").filter(Boolean).length;
  return `Exported ${lines} label(s) to ${name}${left.length ? `; left out: ${left.map(([n, why]) => `${n} ${why}`).join(", ")}` : ""}.`;
}

function Export(props: { scope: Scope; annotator: string }) {
  const [message, setMessage] = useState<{ bad: boolean; text: string } | null>(null);
  const run = (annotator: string | null) =>
    downloadExport(props.scope, annotator).then(
      (text) => setMessage({ bad: false, text }),
      (e: Error) => setMessage({ bad: true, text: `Not exported: ${e.message}` }),
    );
  return (
    <section id="export">
      <h2>Export</h2>
      <p class="muted small">
        The JSONL that `specsci analyze reasoning --human FILE` (or an experiment's
        `analysis.reasoning.human`) reads: one line per labelled transcript, naming its eval run.
      </p>
      <p class="actions">
        <button
          type="button"
          id="export-mine"
          disabled={!props.annotator}
          onClick={() => void run(props.annotator)}
        >
          export {props.annotator || "your"} labels
        </button>
        <button type="button" id="export-all" onClick={() => void run(null)}>
          export everyone's
        </button>
        {message ? (
          <span id="export-message" class={message.bad ? "bad" : "muted"} role="status">
            {message.text}
          </span>
        ) : null}
      </p>
    </section>
  );
}

function QueueSection(props: { queue: QueueRef | null; version: number }) {
  const q = props.queue;
  const { data, error } = useJson<AnnotationQueueResponse>(q ? queuePath(q, 100) : null, [
    props.version,
  ]);
  const next = q && data ? nextOf(q, data.items, null) : undefined;
  const start = () => q && next && navigate(queueTranscriptUrl(q, next));
  useKeys((e) => {
    if (e.key !== "l" || e.target instanceof HTMLInputElement) return;
    e.preventDefault();
    start();
  });
  return (
    <section id="queue">
      <h2>Queue</h2>
      <p class="muted small">
        Unlabelled transcripts in a random order fixed by the seed, stratified by arm × the judge's
        verdict and taking the strata in turns, so the labels are a fair sample of each (rare
        misaligned answers as well as common aligned ones). Labelled ones drop out, the rest keep
        their places: come back with the same seed to resume. The judges' verdicts stay hidden on a
        queue's transcript until you have labelled it.
      </p>
      {!q ? (
        <p class="warn">Give your name (annotator) to get your queue.</p>
      ) : error ? (
        <Problem>{error}</Problem>
      ) : !data ? (
        <Loading />
      ) : (
        <>
          <p>
            <button type="button" id="start-queue" disabled={!next} onClick={start}>
              label next (l)
            </button>{" "}
            {next ? (
              <span class="muted">{data.remaining} to go</span>
            ) : (
              <span>Every transcript in the queue is labelled.</span>
            )}
          </p>
          <Strata queue={data} />
        </>
      )}
    </section>
  );
}

function ScopePage({ query, scope }: { query: URLSearchParams; scope: Scope }) {
  const version = useStoreVersion();
  const annotator = query.get("annotator")?.trim() || rememberedAnnotator();
  const seedParam = query.get("seed");
  const seed = seedParam !== null && /^-?\d+$/.test(seedParam) ? Number(seedParam) : null;
  // The URL holds the queue (scope, seed, annotator), so a reload or a shared link resumes it.
  useEffect(() => {
    if (seed === null || (annotator && !query.get("annotator")))
      navigate(annotatePageUrl({ ...scope, seed: seed ?? rememberedSeed(), annotator }), {
        replace: true,
      });
    else rememberSeed(seed);
    if (annotator) rememberAnnotator(annotator);
  }, [query.toString()]);
  const taxonomy = useJson<AnnotationScopeResponse>(
    `/api/annotations/taxonomy?${scopeQuery(scope)}`,
  );
  const queue = annotator && seed !== null ? { ...scope, seed, annotator } : null;
  const names = new Map(
    [
      ...(taxonomy.data?.categories ?? []),
      ...(taxonomy.data?.policyMisuse ? [taxonomy.data.policyMisuse] : []),
    ].map((c) => [c.id, c.name]),
  );
  const set = (o: { annotator?: string; seed?: number }) =>
    navigate(
      annotatePageUrl({
        ...scope,
        seed: o.seed ?? seed ?? undefined,
        annotator: o.annotator ?? annotator,
      }),
      { replace: true },
    );
  return (
    <section class="annotate">
      <h1>
        Annotate{" "}
        {scope.experiment ? (
          <Link href={`/experiments/${encodeURIComponent(scope.experiment)}`}>
            {scope.experiment}
          </Link>
        ) : (
          scope.runs.join(", ")
        )}
      </h1>
      {taxonomy.error ? <Problem>{taxonomy.error}</Problem> : null}
      {taxonomy.data?.problem ? <Problem>{taxonomy.data.problem}</Problem> : null}
      {taxonomy.data ? (
        <p class="facts muted">
          taxonomy {taxonomy.data.version} ({taxonomy.data.source}) · {taxonomy.data.runs.length}{" "}
          run(s) · labels are kept in the store with their time and annotator
        </p>
      ) : null}
      <div class="filters">
        <label>
          annotator
          <input
            name="annotator"
            value={annotator}
            placeholder="your name"
            onChange={(e) => set({ annotator: (e.currentTarget as HTMLInputElement).value.trim() })}
          />
        </label>
        <label>
          seed
          <input
            name="seed"
            type="number"
            value={seed ?? ""}
            onChange={(e) => {
              const v = Number((e.currentTarget as HTMLInputElement).value);
              if (Number.isSafeInteger(v)) set({ seed: v });
            }}
          />
        </label>
      </div>
      <QueueSection queue={queue} version={version} />
      <details class="shortcuts">
        <summary>Keyboard shortcuts (on a transcript's label panel)</summary>
        <Shortcuts />
      </details>
      <AgreementSection scope={scope} version={version} names={names} />
      <Labels scope={scope} annotator={annotator} version={version} names={names} />
      <Export scope={scope} annotator={annotator} />
    </section>
  );
}

export function AnnotatePage({ query }: { query: URLSearchParams }) {
  const scope = scopeOf(query);
  return scope ? <ScopePage query={query} scope={scope} /> : <ScopePicker />;
}
