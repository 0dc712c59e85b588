/**
 * One sample's transcript: the system prompt (with the spec) collapsible, every message, the
 * answer, native reasoning and scratchpad, parsed actions, scores, and each judge's verdict with
 * its evidence quotes highlighted where they occur (marked when a quote is not in the
 * transcript), the failure when it failed. ←/→ (or k/j) step through the samples of the filter.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { EvidenceQuote, SamplesPage, Transcript } from "../../api-types.js";
import { queueOf } from "../annotator.js";
import { getJson, useJson } from "../api.js";
import { navigate, withQuery } from "../router.js";
import { ActionList, Link, Loading, Problem, ScoreTable } from "../ui.js";
import { AnnotationPanel } from "./annotation-panel.js";
import { CompareWith } from "./compare.js";
import { filterOf } from "./samples.js";

/** `text` with every literal occurrence of the quotes wrapped in <mark> (all as text nodes). */
function highlighted(text: string, quotes: string[]): ComponentChildren {
  const ranges: [number, number][] = [];
  for (const q of quotes) {
    if (q.length < 3) continue;
    for (let at = text.indexOf(q); at >= 0; at = text.indexOf(q, at + q.length))
      ranges.push([at, at + q.length]);
  }
  if (!ranges.length) return text;
  ranges.sort((a, b) => a[0] - b[0]);
  const out: ComponentChildren[] = [];
  let pos = 0;
  for (const [start, end] of ranges) {
    if (end <= pos) continue;
    const from = Math.max(start, pos);
    if (from > pos) out.push(text.slice(pos, from));
    out.push(<mark class="evidence">{text.slice(from, end)}</mark>);
    pos = end;
  }
  if (pos < text.length) out.push(text.slice(pos));
  return out;
}

function Block(props: {
  title: string;
  text: string | null;
  quotes: string[];
  open?: boolean;
  id?: string;
}) {
  if (props.text === null) return null;
  return (
    <details class="block" open={props.open ?? true} id={props.id}>
      <summary>{props.title}</summary>
      <pre class="text">{highlighted(props.text, props.quotes)}</pre>
    </details>
  );
}

function Quote({ q }: { q: EvidenceQuote }) {
  return (
    <li class={q.found ? "quote" : "quote not-found"}>
      <q>{q.text}</q>
      {q.found ? null : <span class="bad"> ✗ not found in the transcript</span>}
    </li>
  );
}

const json = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v, null, 1));

function Judges({ t }: { t: Transcript }) {
  return (
    <section id="judges">
      <h2>Scores and judges</h2>
      <ScoreTable scores={t.scores} />
      {t.judges.map((j, i) => (
        <div class="judge" key={`${j.scorer}-${i}`}>
          <h3>
            {j.scorer} judge {i + 1}
            {j.model ? ` (${j.model})` : ""}: <code>{json(j.verdict)}</code>
          </h3>
          {j.rationale ? <p class="text">{j.rationale}</p> : null}
          {j.quotes.length ? (
            <ul class="quotes">
              {j.quotes.map((q, k) => (
                <Quote key={k} q={q} />
              ))}
            </ul>
          ) : null}
        </div>
      ))}
    </section>
  );
}

/** Opens the sample `step` places away in the filter's order (the sample table's). */
async function step(query: URLSearchParams, by: number) {
  const i = Number(query.get("i") ?? "NaN") + by;
  if (!Number.isInteger(i) || i < 0) return;
  const q = filterOf(query);
  q.set("offset", String(i));
  q.set("limit", "1");
  const page = await getJson<SamplesPage>(`/api/samples?${q}`);
  const row = page.rows[0];
  if (!row) return;
  const next = filterOf(query);
  next.set("runId", row.runId);
  next.set("sampleId", row.sampleId);
  next.set("epoch_", String(row.epoch));
  next.set("i", String(i));
  navigate(withQuery("/transcript", next));
}

export function TranscriptPage({ query }: { query: URLSearchParams }) {
  const run = query.get("runId");
  const sample = query.get("sampleId");
  const epoch = query.get("epoch_");
  const path =
    run && sample && epoch ? `/api/sample?${new URLSearchParams({ run, sample, epoch })}` : null;
  const { data: t, error } = useJson<Transcript>(path);
  // A queue labels blind: the judges' verdicts and quotes show once this transcript is labelled.
  const queue = queueOf(query);
  const [labelled, setLabelled] = useState(false);
  const blind = queue !== null && !labelled;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target;
      if (
        t instanceof HTMLInputElement ||
        t instanceof HTMLSelectElement ||
        t instanceof HTMLTextAreaElement
      )
        return;
      if (e.key === "ArrowRight" || e.key === "j") void step(query, 1);
      if (e.key === "ArrowLeft" || e.key === "k") void step(query, -1);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [query]);
  if (!path)
    return <Problem>A transcript is named by runId, sampleId and epoch_ in the URL.</Problem>;
  if (error) return <Problem>{error}</Problem>;
  if (!t) return <Loading />;
  const quotes = blind
    ? []
    : t.judges.flatMap((j) => j.quotes.filter((q) => q.found).map((q) => q.text));
  const system = t.messages.filter((m) => m.role === "system");
  const rest = t.messages.filter((m) => m.role !== "system");
  return (
    <section class="transcript">
      <p class="nav">
        <Link href={withQuery("/samples", filterOf(query))}>← samples</Link>
        {query.get("i") !== null ? (
          <>
            <button type="button" onClick={() => void step(query, -1)}>
              previous (←)
            </button>
            <button type="button" onClick={() => void step(query, 1)}>
              next (→)
            </button>
          </>
        ) : null}
      </p>
      <h1>
        {t.sampleId} · epoch {t.epoch}
      </h1>
      <p class="facts">
        <span class={`status status-${t.status}`}>{t.status}</span> {t.task} · {t.model} · run{" "}
        {t.runId} · {Math.round(t.workingMs)} ms
      </p>
      {queue ? (
        <p class="queue-bar">
          Labelling from a queue: <a href="#annotate-panel">your label</a> is below the transcript,
          and its keys work anywhere on the page.
        </p>
      ) : null}
      <CompareWith experiment={query.get("experiment")} t={t} />
      {t.failure ? (
        <section class="failure" id="failure">
          <h2>Why it has no score</h2>
          <pre class="text">{json(t.failure)}</pre>
        </section>
      ) : null}
      {system.map((m, i) => (
        <Block
          key={`s${i}`}
          title="system prompt (with the spec)"
          text={m.content}
          quotes={quotes}
          open={false}
        />
      ))}
      {rest.map((m, i) => (
        <Block key={`m${i}`} title={m.role} text={m.content} quotes={quotes} />
      ))}
      <Block title="native reasoning" text={t.reasoning} quotes={quotes} id="reasoning" />
      <Block title="answer" text={t.answer} quotes={quotes} id="answer" />
      {t.actions.length ? (
        <section id="actions">
          <h2>Parsed actions</h2>
          <ActionList actions={t.actions} />
        </section>
      ) : null}
      <AnnotationPanel
        runId={t.runId}
        sampleId={t.sampleId}
        epoch={t.epoch}
        queue={queue}
        onLabelled={setLabelled}
      />
      {blind ? (
        <p class="muted" id="judges-hidden">
          The scores and judges' verdicts are hidden until you label this transcript.
        </p>
      ) : (
        <Judges t={t} />
      )}
    </section>
  );
}
