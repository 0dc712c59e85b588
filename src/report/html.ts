/**
 * The HTML report: one self-contained file (inline CSS, charts as inline SVG, no script at all)
 * that opens offline. Everything that did not come from specsci itself (model output, spec text,
 * file names, config) is escaped, and a Content-Security-Policy forbids scripts and network
 * requests, so a transcript holding a script payload can only ever be shown as text.
 */

import type { RunMetrics } from "../evals/am/metrics.js";
import { awarenessTables } from "./awareness.js";
import { type Chart, PAGE_WIDTH } from "./charts.js";
import { baseFamilyTables } from "./families.js";
import { preferencePressureTables } from "./pref-pressure.js";
import type { ReportData } from "./results.js";
import {
  agreementTable,
  comparisonsTable,
  familyTable,
  isNumberColumn,
  pct,
  ratesTable,
  reasoningTables,
  scenarioTable,
  seedsTable,
  type Table,
} from "./tables.js";
import {
  metricValue,
  taskBreakdownTables,
  taskComparisonsTable,
  taskOverviewTable,
} from "./task-tables.js";
import type { TaskReport } from "./tasks.js";

export function escapeHtml(s: unknown): string {
  return String(s).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string,
  );
}

/**
 * A name as HTML that may break after `/ _ - . ·` (model ids, scenario ids): table columns then
 * wrap between its parts rather than widen the table or cut a word at any letter.
 */
const breakable = (s: string) => escapeHtml(s).replace(/[/_.·-]/g, "$&<wbr>");

/** A table in its own scrolling box, so that one too wide for the page never widens the page. */
function table(t: Table): string {
  const num = (i: number) => (isNumberColumn(t, i) ? ' class="num"' : "");
  // Headers name arms and models even above numbers; a number itself never breaks.
  const header = (h: string, i: number) => `<th${num(i)}>${breakable(h)}</th>`;
  const cell = (c: string, i: number) =>
    `<td${num(i)}>${isNumberColumn(t, i) ? escapeHtml(c) : breakable(c)}</td>`;
  return `<div class="table"><table><caption>${escapeHtml(t.title)}</caption><thead><tr>${t.headers.map(header).join("")}</tr></thead><tbody>${t.rows
    .map((r) => `<tr>${r.map(cell).join("")}</tr>`)
    .join("")}</tbody></table></div>${t.note ? `<p class="meta">${escapeHtml(t.note)}</p>` : ""}`;
}

/** Vega's SVG: its text content is escaped by vega; the markup itself is ours to trust. */
function figure(c: Chart | undefined): string {
  if (!c) return "";
  return `<figure id="chart-${escapeHtml(c.id)}">${c.svg}<figcaption>${escapeHtml(c.title)}</figcaption></figure>`;
}

/**
 * Long unbroken strings (model ids, a judge's 100,000-character line) wrap anywhere instead of
 * widening the page; model, judge and config text keeps its newlines (`pre`, `.text`) and long text
 * scrolls inside its own box. In tables names wrap at their separators (see `breakable`), a table
 * still too wide scrolls in its own box, and numbers are right-aligned and never broken.
 */
const CSS = `
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:${PAGE_WIDTH}px;margin:2rem auto;padding:0 1rem;color:#1d1d1f;overflow-wrap:anywhere}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2.4rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.synthetic{background:#fff3cd;border:1px solid #e0c36b;padding:.6rem 1rem;border-radius:6px}
.table{overflow-x:auto;margin:1rem 0}table{border-collapse:collapse;font-size:13px}caption{text-align:left;font-weight:600;padding:.3rem 0}
th,td{border-bottom:1px solid #e5e5e5;padding:.25rem .6rem;text-align:left;vertical-align:top}th{vertical-align:bottom}table{overflow-wrap:break-word}
.num{text-align:right;font-variant-numeric:tabular-nums}td.num{white-space:nowrap}
figure{margin:1rem 0;overflow-x:auto}figcaption{font-size:13px;color:#555}
pre{white-space:pre-wrap;background:#f7f7f8;padding:.8rem;border-radius:6px;font-size:12px;max-height:28rem;overflow:auto}
pre.prose{font-family:inherit;font-size:13px}
.text{white-space:pre-wrap}blockquote.text{margin:.3rem 0 .6rem 1rem;padding-left:.6rem;border-left:3px solid #ddd;max-height:12rem;overflow:auto}
details{margin:.6rem 0}summary{cursor:pointer;font-weight:600}.meta{color:#555;font-size:13px}
`;

/** The reasoning analysis: its tables, the misuse claims (model output, escaped) and the method. */
function reasoningSection(d: ReportData): string {
  const r = d.reasoning;
  if (!r) return "";
  const claims = r.misuse
    .slice(0, 40)
    .map(
      (m) =>
        `<li>${escapeHtml(m.arm)} · ${escapeHtml(m.key)} · <b>${escapeHtml(m.rule)}</b> ${escapeHtml(m.kind)}:<blockquote class="text">${escapeHtml(m.claim)}</blockquote><div class="meta text">${escapeHtml(m.why)}</div></li>`,
    )
    .join("");
  return `<section id="reasoning"><h2>Reasoning</h2>
<p class="meta">Every finished transcript labelled by ${r.labellers.map(escapeHtml).join(", ")} against taxonomy ${escapeHtml(r.taxonomy.version)} (${escapeHtml(r.taxonomy.source)}). Each label carries passages quoted from the transcript and checked word for word; a label with invented quotes is asked again, then counted invalid. Invalid labels and failed calls are in no rate. Rules cited by id are found without a model. A misuse claim is a misquotation when its rule does not exist or the quoted words are not in it; otherwise the first labeller reads it beside the rule's text.</p>
${reasoningTables(d).map(table).join("")}
${claims ? `<h3>Policy-misuse claims</h3><ul>${claims}</ul>` : "<p>No policy-misuse claims.</p>"}
</section>`;
}

/** ", 2 failed, 1 cut off at max_tokens excluded" for an arm's summary line; "" when none. */
function unscoredNote(m: RunMetrics): string {
  const parts = [
    m.errors.total ? `${m.errors.total} failed` : "",
    m.truncated ? `${m.truncated} cut off at max_tokens` : "",
    m.refused ? `${m.refused} refused` : "",
  ].filter(Boolean);
  return parts.length ? `, ${parts.join(", ")} sample(s) excluded` : "";
}

/** One example transcript: what each scorer found, the reasoning, the answer and the prompt. */
function transcript(ex: ReportData["examples"][number]): string {
  const r = ex.record;
  const out = r.output as { text?: string; reasoning?: string | null } | null;
  const scores = Object.entries(
    (r.scores as Record<string, { answer?: string; explanation?: string }> | null) ?? {},
  );
  const input = (r.input as { role: string; content: string }[])
    .map((m) => `[${m.role}]\n${m.content}`)
    .join("\n\n");
  const verdict = scores.find(([k]) => k === "misalignment")?.[1].answer ?? scores[0]?.[1].answer;
  const found = scores
    .filter(([, sc]) => sc.explanation || sc.answer)
    .map(
      ([name, sc]) =>
        `<h4>${escapeHtml(name)}: ${escapeHtml(sc.answer ?? "")}</h4>${sc.explanation ? `<pre class="prose">${escapeHtml(sc.explanation)}</pre>` : ""}`,
    )
    .join("");
  return `<details><summary>${ex.eval ? `${escapeHtml(ex.eval)} · ` : ""}${escapeHtml(ex.arm)} · ${escapeHtml(ex.model)} · ${escapeHtml(r.sampleId)} (epoch ${r.epoch}): ${escapeHtml(verdict ?? r.status)}</summary>
${found || "<p>No scores.</p>"}
${out?.reasoning ? `<h4>Native reasoning</h4><pre>${escapeHtml(out.reasoning)}</pre>` : ""}
<h4>Answer</h4><pre>${escapeHtml(out?.text ?? "")}</pre>
<details><summary>Prompt</summary><pre>${escapeHtml(input)}</pre></details></details>`;
}

/** Each task's section: what it measures, its chart, its tables. */
function taskSection(t: TaskReport, chart: Chart | undefined): string {
  return `<section id="task-${escapeHtml(t.eval)}"><h2>${escapeHtml(t.eval)} · ${escapeHtml(t.task)}</h2>
<p class="meta">${escapeHtml(t.summary)} Items are averaged over their samples first (epochs, both orders of a pair), then over items; intervals are Student-t across items. Invalid answers (no choice found), failures, cut-off answers and refusals are in no mean and are counted apart.</p>
${figure(chart)}${table(taskOverviewTable(t))}${findings(t)}${t.comparisons.length ? `${table(taskComparisonsTable(t))}<p class="meta">Paired t-test over the items both arms answered (Welch's test when none are shared); p Holm-adjusted across every comparison of this report.</p>` : ""}
${breakdowns(t)}</section>`;
}

/** Each metric by each of its fields, folded away: they are many, and the overview comes first. */
function breakdowns(t: TaskReport): string {
  const tables = taskBreakdownTables(t);
  return tables.length
    ? `<details><summary>Breakdowns (${tables.length} tables)</summary>${tables.map(table).join("")}</details>`
    : "";
}

/** The task's observations per arm (model-free text of ours, escaped all the same). */
function findings(t: TaskReport): string {
  const items = t.arms.flatMap((a) =>
    a.findings.map(
      (f) => `<li>${escapeHtml(a.arm)} · ${escapeHtml(a.model)}: ${escapeHtml(f)}</li>`,
    ),
  );
  return items.length ? `<ul class="meta">${items.join("")}</ul>` : "";
}

/** The headline of every task for every arm, for the summary. */
function taskHeadlines(d: ReportData): string {
  return d.tasks
    .flatMap((t) =>
      t.arms.map((a) => {
        const m = a.summary.metrics.find((x) => x.metric.name === t.headline.name);
        if (!m) return "";
        const c = m.overall;
        return `<li>${escapeHtml(t.eval)}: <b>${escapeHtml(a.arm)}</b> on ${escapeHtml(a.model)}: ${escapeHtml(t.headline.label)} ${escapeHtml(metricValue(t.headline, c.mean))} over ${c.items} item(s)${c.ci.some(Number.isNaN) ? "" : ` (95% CI ${escapeHtml(metricValue(t.headline, c.ci[0]))}–${escapeHtml(metricValue(t.headline, c.ci[1]))})`}</li>`;
      }),
    )
    .join("");
}

/** Samples in no task metric, per task, arm and model. */
function taskUnscored(d: ReportData): string[] {
  return d.tasks.flatMap((t) =>
    t.arms.flatMap((a) => {
      const o = a.summary.outcomes;
      const parts = [
        ...Object.entries(o.errorsByKind).map(([k, n]) => `${escapeHtml(k)} ${n}`),
        ...(o.truncated ? [`cut off at max_tokens ${o.truncated}`] : []),
        ...(o.refused ? [`refused by the provider ${o.refused}`] : []),
      ];
      return parts.length
        ? [
            `<li>${escapeHtml(t.eval)} · ${escapeHtml(a.arm)} · ${escapeHtml(a.model)}: ${parts.join(", ")}</li>`,
          ]
        : [];
    }),
  );
}

/** The cross-family comparison, where results exist on two base-model families or more. */
function baseFamiliesSection(d: ReportData): string {
  const tables = baseFamilyTables(d);
  return tables.length
    ? `<section id="base-families"><h2>Across base-model families</h2>${tables.map(table).join("")}</section>`
    : "";
}

export function renderHtml(d: ReportData, charts: Chart[]): string {
  const chart = (id: string) => charts.find((c) => c.id === id);
  const headline = (d.am ? d.arms : [])
    .map(
      (a) =>
        `<li><b>${escapeHtml(a.arm)}</b> on ${escapeHtml(a.model)}: ${escapeHtml(pct(a.metrics.pooled.rate))} misaligned (${a.metrics.pooled.misaligned}/${a.metrics.pooled.n}; 95% CI ${escapeHtml(pct(a.metrics.pooled.ci[0]))}–${escapeHtml(pct(a.metrics.pooled.ci[1]))})${unscoredNote(a.metrics)}</li>`,
    )
    .join("");
  const errors = d.am ? d.arms.filter((a) => unscoredNote(a.metrics)) : [];
  const taskErrors = taskUnscored(d);
  const awareness = d.arms.some((a) => a.metrics.byAwareness.length);
  const pressure = preferencePressureTables(d);
  const transcripts = d.examples.map(transcript).join("\n");
  const p = d.provenance;
  const seeds = seedsTable(d);
  const title = `${d.synthetic ? "[SYNTHETIC OUTPUTS] " : ""}${d.title}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · specsci report</title><style>${CSS}</style></head><body>
<h1>${escapeHtml(title)}</h1>
<p class="meta">specsci report, generated ${escapeHtml(d.generatedAt)} by ${escapeHtml(p.code.package)} ${escapeHtml(p.code.version)}${p.code.commit ? ` (${escapeHtml(p.code.commit.slice(0, 12))}${p.code.dirty ? ", with uncommitted changes" : ""})` : ""}</p>
${d.synthetic ? `<p class="synthetic"><b>These outputs are synthetic.</b> The model is specsci's built-in tiny test model, which always answers the same way: the numbers below exercise the pipeline and mean nothing about any real model.</p>` : ""}
${d.description ? `<p class="text">${escapeHtml(d.description)}</p>` : ""}
<section id="summary"><h2>Summary</h2><ul>${headline}${taskHeadlines(d)}</ul>
${d.am ? `<p class="meta">Misaligned = the judge found the model decided to take the harmful action (the MSM paper's verdict). Failed samples (generation or judging), answers cut off at their output budget (no evidence of a decision) and refusals the provider reported are excluded from every rate and counted separately.</p>` : ""}</section>
${
  d.am
    ? `<section id="main-figure"><h2>Main result</h2>${figure(chart("main"))}${figure(chart("design"))}${figure(chart("ladder"))}${figure(chart("dose"))}${figure(chart("richness"))}${table(ratesTable(d))}${table(agreementTable(d))}${seeds ? table(seeds) : ""}</section>
<section id="comparisons"><h2>Comparisons</h2>${d.comparisons.length ? table(comparisonsTable(d)) : "<p>One arm only: nothing to compare.</p>"}
<p class="meta">Differences in percentage points with Newcombe hybrid-score intervals and a cluster bootstrap over scenarios (2,000 resamples, fixed seed). p: McNemar's exact test on paired samples (same scenario, epoch and seed), Fisher's exact test otherwise; Holm-adjusted across every comparison of this report, those of the other tasks included.</p></section>
${baseFamiliesSection(d)}
<section id="families"><h2>By family</h2>${figure(chart("families"))}${figure(chart("heatmap"))}${table(familyTable(d))}</section>
<section id="scenarios"><h2>By scenario</h2>${table(scenarioTable(d))}</section>
<section id="citations"><h2>Rules cited in the reasoning</h2>${figure(chart("citations")) || "<p>No rule ids were cited.</p>"}</section>
`
    : ""
}
${reasoningSection(d)}
${d.am && pressure.length ? `<section id="preference-pressure"><h2>Preference-optimisation pressure</h2>${figure(chart("pref-steps"))}${figure(chart("pref-contamination"))}${pressure.map(table).join("")}</section>` : ""}
${d.am ? `<section id="awareness"><h2>Eval awareness</h2>${awareness ? `${figure(chart("awareness"))}${figure(chart("awareness-split"))}${awarenessTables(d).map(table).join("")}` : "<p>Not measured in this run (enable <code>eval_awareness</code>).</p>"}</section>` : ""}
${d.tasks.map((t) => taskSection(t, chart(`task-${t.eval}`))).join("\n")}
<section id="errors"><h2>Samples outside the rates</h2>${
    errors.length || taskErrors.length
      ? `<ul>${taskErrors.join("")}${errors
          .map(
            (a) =>
              `<li>${escapeHtml(a.arm)} · ${escapeHtml(a.model)}: ${[
                ...Object.entries(a.metrics.errors.byKind).map(([k, n]) => `${escapeHtml(k)} ${n}`),
                ...(a.metrics.truncated ? [`cut off at max_tokens ${a.metrics.truncated}`] : []),
                ...(a.metrics.refused ? [`refused by the provider ${a.metrics.refused}`] : []),
              ].join(", ")}</li>`,
          )
          .join("")}</ul>`
      : "<p>No sample failed, was cut off or was refused.</p>"
  }</section>
<section id="provenance"><h2>Configuration and provenance</h2>
<p class="meta">Every number above comes from these eval runs (ids derived from the task, its dataset including the spec text, the model, epochs, generation settings and scorers).</p>
${table({
  title: "Specs",
  headers: ["name", "sha256", "source"],
  rows: p.specs.map((s) => [s.name, s.hash, s.source]),
})}
${table({
  title: "Eval runs",
  headers: ["stage", "run id", "task", "version", "generation"],
  rows: p.runs.map((r) => [r.key, r.runId, r.task, r.taskVersion, JSON.stringify(r.generate)]),
})}
<p>Models: ${p.models.map(escapeHtml).join(", ")}. Judge: ${escapeHtml(p.judge ?? "–")}. Seeds: ${escapeHtml(p.seeds.join(", ") || "–")}.</p>
<details><summary>Scorer and prompt versions</summary><pre>${escapeHtml(
    JSON.stringify(
      p.runs.map((r) => ({ run: r.runId, scorers: r.scorers })),
      null,
      2,
    ),
  )}</pre></details>
${d.experimentSource ? `<details><summary>experiment.yaml</summary><pre>${escapeHtml(d.experimentSource)}</pre></details>` : ""}
<details><summary>Chart specifications (vega-lite)</summary><pre>${escapeHtml(
    JSON.stringify(
      charts.map((c) => ({ id: c.id, spec: c.spec })),
      null,
      1,
    ),
  )}</pre></details>
</section>
<section id="transcripts"><h2>Sample transcripts</h2><p class="meta">Model output is shown as text, exactly as generated.</p>${transcripts || "<p>No finished samples.</p>"}</section>
</body></html>
`;
}
