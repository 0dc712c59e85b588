/**
 * One sample's transcript: the system prompt (with the spec) collapsible, every message, the
 * answer, native reasoning and scratchpad, parsed actions, scores, and each judge's verdict with
 * its evidence quotes highlighted where they occur (marked when a quote is not in the
 * transcript), the failure when it failed. ←/→ (or k/j) step through the samples of the filter.
 */
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import type {
  EvidenceQuote,
  InvokedRule,
  JudgePanel,
  MisuseClaim,
  SamplesPage,
  Transcript,
  TranscriptReasoning,
} from "../../api-types.js";
import { queueOf } from "../annotator.js";
import { getJson, useJson } from "../api.js";
import { navigate, withQuery } from "../router.js";
import { ActionList, isTyping, Link, Loading, Problem, ScoreTable, useKeys } from "../ui.js";
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

/** The k judges' votes of one scorer, with a mark when they differ. */
function Panel({ p }: { p: JudgePanel }) {
  return (
    <li class={p.disagree ? "panel disagree" : "panel"} data-scorer={p.scorer}>
      <strong>{p.scorer}</strong>, {p.votes.length} judges:{" "}
      {p.votes.map((v, i) => (
        <span key={i} class={v === null ? "vote bad" : "vote"}>
          {v ?? "no valid verdict"}
        </span>
      ))}
      {p.disagree ? <span class="bad"> ⚠ the judges disagree</span> : null}
    </li>
  );
}

function Judges({ t }: { t: Transcript }) {
  return (
    <section id="judges">
      <h2>Scores and judges</h2>
      {t.panels.length ? (
        <ul class="panels" id="panels">
          {t.panels.map((p) => (
            <Panel key={p.scorer} p={p} />
          ))}
        </ul>
      ) : null}
      <ScoreTable scores={t.scores} />
      {t.judges.map((j, i) => (
        <div class="judge" key={`${j.scorer}-${i}`}>
          <h3>
            {j.scorer} judge {t.judges.slice(0, i + 1).filter((x) => x.scorer === j.scorer).length}
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

/**
 * Where a rule's text is on the Specs page (every rule anchored by its id). The page is another
 * part of the dashboard; until it is there the rule's text is also shown here, inline.
 */
const specRuleHref = (spec: { hash: string }, rule: string) =>
  `/specs/${encodeURIComponent(spec.hash)}#${encodeURIComponent(rule)}`;

/** A rule the transcript invokes: its id, how, where, and its text, collapsible. */
function Rule({ r, spec }: { r: InvokedRule; spec: TranscriptReasoning["spec"] }) {
  return (
    <li>
      <details class="rule" data-rule={r.rule}>
        <summary>
          <code>{r.rule}</code> {r.how === "explicit" ? "by id" : "by paraphrase"}
          {r.quote ? (
            <>
              : <q>{r.quote}</q>
            </>
          ) : null}
          {spec && r.text !== null ? (
            <>
              {" "}
              <Link href={specRuleHref(spec, r.rule)} class="spec-link">
                {r.rule} in {spec.name}
              </Link>
            </>
          ) : null}
        </summary>
        <pre class="text rule-text">
          {r.text ?? `${spec ? spec.name : "the spec"} has no rule ${r.rule}`}
        </pre>
      </details>
    </li>
  );
}

const CLAIM_KINDS: Record<MisuseClaim["kind"], string> = {
  misquotation: "misquoted",
  reinterpretation: "reinterpreted",
  accurate: "accurate",
  unchecked: "not checked",
};

/** A claim about a rule beside the rule's actual text. */
function Claim({ c }: { c: MisuseClaim }) {
  return (
    <div class={`claim claim-${c.kind}`} data-rule={c.rule}>
      <div>
        <h4>
          The model's claim about <code>{c.rule}</code>{" "}
          <span class={c.kind === "accurate" ? "ok" : "bad"}>{CLAIM_KINDS[c.kind]}</span>
        </h4>
        <p class="text">{c.claim}</p>
        <p class="muted">
          {c.why} · {Math.round(c.overlap * 100)}% of its words are in the rule
        </p>
      </div>
      <div>
        <h4>What {c.rule} says</h4>
        <pre class="text rule-text">{c.ruleText ?? `the spec has no rule ${c.rule}`}</pre>
      </div>
    </div>
  );
}

/** The reasoning analysis's labels of the sample (its experiment arm's analysis). */
function ReasoningLabels({ labels }: { labels: Transcript["labels"] }) {
  if (!labels) return null;
  if ("problem" in labels)
    return (
      <section id="reasoning-labels">
        <h2>Reasoning labels</h2>
        <Problem>{labels.problem}</Problem>
      </section>
    );
  return (
    <section id="reasoning-labels">
      <h2>Reasoning labels</h2>
      <p class="facts">
        arm {labels.arm} · {labels.model} · read against{" "}
        {labels.spec ? labels.spec.name : "no spec"} · taxonomy {labels.taxonomy}
      </p>
      {labels.unlabelled ? <p class="muted">No label: {labels.unlabelled}.</p> : null}
      {labels.labels.map((l) => (
        <div class="rater" key={l.rater}>
          <h3>
            {l.rater}
            {l.status === "ok" ? "" : l.status === "failed" ? " (failed)" : " (not labelled yet)"}
          </h3>
          {l.message ? <p class="bad">{l.message}</p> : null}
          {l.status === "ok" && !l.categories.length ? (
            <p class="muted">no category</p>
          ) : (
            <ul class="categories">
              {l.categories.map((c) => (
                <li key={c.id} class={`category kind-${c.kind}`}>
                  <strong>{c.name}</strong> <code>{c.id}</code>
                  {c.quotes.map((q, i) => (
                    <span key={i}>
                      {" "}
                      <q>{q}</q>
                    </span>
                  ))}
                </li>
              ))}
            </ul>
          )}
        </div>
      ))}
      {labels.rules.length ? (
        <>
          <h3>Rules invoked</h3>
          <ul class="rules" id="rules-invoked">
            {labels.rules.map((r, i) => (
              <Rule key={`${r.rule}-${i}`} r={r} spec={labels.spec} />
            ))}
          </ul>
        </>
      ) : null}
      {labels.misuse.length ? (
        <>
          <h3>Claims about rules</h3>
          <div id="misuse">
            {labels.misuse.map((c, i) => (
              <Claim key={i} c={c} />
            ))}
          </div>
        </>
      ) : null}
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
  useKeys((e) => {
    if (isTyping(e.target)) return;
    if (e.key === "ArrowRight" || e.key === "j") void step(query, 1);
    if (e.key === "ArrowLeft" || e.key === "k") void step(query, -1);
  });
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
          The scores, the judges' verdicts and the reasoning labels are hidden until you label this
          transcript.
        </p>
      ) : (
        <>
          <Judges t={t} />
          <ReasoningLabels labels={t.labels} />
        </>
      )}
    </section>
  );
}
