/**
 * One experiment, live: the report's numbers (rates per arm × model with intervals, comparisons,
 * breakdowns, other tasks' metrics) from the same functions as `specsci report`, the report's
 * charts, and every stage's status; it refetches whenever a running `specsci run` commits. The
 * rates table and the main figure come first (`/rates`, from the verdict counts), the rest of the
 * report after: at 200,000 samples it takes the server seconds.
 */
import type {
  ExperimentRatesResponse,
  ExperimentResponse,
  ExperimentSummary,
  ReportNumbers,
} from "../../api-types.js";
import { useJson, useStoreVersion } from "../api.js";
import { Chart } from "../chart.js";
import { interval, Link, Loading, num, Outcomes, Problem, pct, pValue, usd } from "../ui.js";
import { compareHref } from "./compare.js";

type RateCell = ReportNumbers["arms"][number]["metrics"]["pooled"];
type ExperimentRates = NonNullable<ExperimentRatesResponse["rates"]>;

const samplesLink = (id: string, filter: Record<string, string>) =>
  `/samples?${new URLSearchParams({ experiment: id, ...filter })}`;

function RateCells({ c }: { c: RateCell }) {
  return (
    <>
      <td class="num">{c.n}</td>
      <td class="num">{c.misaligned}</td>
      <td class="num rate">{pct(c.rate)}</td>
      <td class="num">{interval(c.ci)}</td>
      <td>
        <Outcomes errors={c.errors} truncated={c.truncated} refused={c.refused} />
      </td>
    </>
  );
}

function Rates({
  id,
  report,
}: {
  id: string;
  report: Pick<ReportNumbers, "arms"> | ExperimentRates;
}) {
  return (
    <table class="grid" id="rates">
      <thead>
        <tr>
          <th>arm</th>
          <th>model</th>
          <th>n</th>
          <th>misaligned</th>
          <th>rate</th>
          <th>95% Wilson</th>
          <th>not in n</th>
          <th>across seeds</th>
        </tr>
      </thead>
      <tbody>
        {report.arms.map((a) => (
          <tr key={`${a.arm}|${a.model}`}>
            <td>
              <Link href={samplesLink(id, { arm: a.arm, model: a.model })}>{a.arm}</Link>
            </td>
            <td>{a.model}</td>
            <RateCells c={a.metrics.pooled} />
            <td class="num">
              {a.acrossSeeds ? `${pct(a.acrossSeeds.mean)} ${interval(a.acrossSeeds.ci)}` : "–"}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Comparisons({ id, report }: { id: string; report: ReportNumbers }) {
  if (!report.comparisons.length) return null;
  return (
    <>
      <h2>Comparisons</h2>
      <table class="grid" id="comparisons">
        <thead>
          <tr>
            <th>model</th>
            <th>arm A − arm B</th>
            <th>difference</th>
            <th>Newcombe 95%</th>
            <th>bootstrap 95%</th>
            <th>ratio</th>
            <th>pairs</th>
            <th>p (McNemar / Fisher)</th>
            <th>p Holm</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {report.comparisons.map((c) => (
            <tr key={`${c.model}|${c.a}|${c.b}`}>
              <td>{c.model}</td>
              <td>
                {c.a} − {c.b}
              </td>
              <td class="num">{pct(c.diff)}</td>
              <td class="num">{interval(c.diffCi)}</td>
              <td class="num">{interval(c.bootstrapCi)}</td>
              <td class="num">
                {num(c.ratio, 2)} {interval(c.ratioCi, (x) => num(x, 2))}
              </td>
              <td class="num">{c.pairs}</td>
              <td class="num">
                {pValue(c.p)} {c.pMcnemar === null ? "(Fisher)" : "(McNemar)"}
                {c.pUndefinedReason ? <div class="muted small">{c.pUndefinedReason}</div> : null}
              </td>
              <td class="num">{pValue(c.pHolm)}</td>
              <td>
                <Link href={compareHref({ experiment: id, a: c.a, b: c.b, model: c.model })}>
                  side by side
                </Link>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function Breakdown({
  id,
  report,
  by,
}: {
  id: string;
  report: ReportNumbers;
  by: "byFamily" | "byCondition";
}) {
  const keys = [...new Set(report.arms.flatMap((a) => a.metrics[by].map((c) => c.key)))].sort();
  if (!keys.length) return null;
  const filter = by === "byFamily" ? "family" : "sample";
  return (
    <>
      <h2>By {by === "byFamily" ? "family" : "goal condition (scenario)"}</h2>
      <table class="grid">
        <thead>
          <tr>
            <th>{filter === "family" ? "family" : "condition"}</th>
            <th>arm</th>
            <th>model</th>
            <th>n</th>
            <th>misaligned</th>
            <th>rate</th>
            <th>95% Wilson</th>
            <th>not in n</th>
          </tr>
        </thead>
        <tbody>
          {keys.flatMap((k) =>
            report.arms.map((a) => {
              const c = a.metrics[by].find((x) => x.key === k);
              return c ? (
                <tr key={`${k}|${a.arm}|${a.model}`}>
                  <td>
                    <Link href={samplesLink(id, { arm: a.arm, model: a.model, [filter]: k })}>
                      {k}
                    </Link>
                  </td>
                  <td>{a.arm}</td>
                  <td>{a.model}</td>
                  <RateCells c={c} />
                </tr>
              ) : null;
            }),
          )}
        </tbody>
      </table>
    </>
  );
}

function Tasks({ report }: { report: ReportNumbers }) {
  return (
    <>
      {report.tasks.map((t) => (
        <div key={t.eval}>
          <h2>
            {t.eval} ({t.task}): {t.headline.label}
          </h2>
          <table class="grid">
            <thead>
              <tr>
                <th>arm</th>
                <th>model</th>
                <th>items</th>
                <th>mean</th>
                <th>95% t</th>
                <th>not scored</th>
              </tr>
            </thead>
            <tbody>
              {t.arms.map((a) => {
                const m = a.summary.metrics.find((x) => x.metric.name === t.headline.name)?.overall;
                const f = t.headline.scale === "proportion" ? pct : num;
                const o = a.summary.outcomes;
                return (
                  <tr key={`${a.arm}|${a.model}`}>
                    <td>{a.arm}</td>
                    <td>{a.model}</td>
                    <td class="num">{m?.items ?? 0}</td>
                    <td class="num">{f(m?.mean)}</td>
                    <td class="num">{interval(m?.ci, f)}</td>
                    <td>
                      <Outcomes errors={o.error} truncated={o.truncated} refused={o.refused} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ))}
    </>
  );
}

function Stages({ summary }: { summary: ExperimentSummary }) {
  return (
    <details class="stages">
      <summary>
        Stages ({summary.stages.length}) · spent {usd(summary.spentUsd)}
      </summary>
      <table class="grid">
        <thead>
          <tr>
            <th>stage</th>
            <th>state</th>
            <th>scored</th>
            <th>without a score</th>
            <th>spent</th>
          </tr>
        </thead>
        <tbody>
          {summary.stages.map((s) => (
            <tr key={s.key}>
              <td>
                <Link
                  href={`/samples?${new URLSearchParams({ experiment: summary.id, run: s.runId })}`}
                >
                  {s.key}
                </Link>
              </td>
              <td>{s.state}</td>
              <td class="num">
                {s.done}
                {s.samples === null ? "" : ` / ${s.samples}`}
              </td>
              <td>
                <Outcomes errors={s.errors} truncated={s.truncated} refused={s.refused} />
              </td>
              <td class="num">{usd(s.spentUsd)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

export function ExperimentPage({ id }: { id: string }) {
  const version = useStoreVersion();
  const path = `/api/experiments/${encodeURIComponent(id)}`;
  const fast = useJson<ExperimentRatesResponse>(`${path}/rates`, [version]);
  // The whole report once the rates are on screen (the server computes one at a time).
  const full = useJson<ExperimentResponse>(fast.data ? path : null, [version]);
  const first = fast.data;
  if (fast.error && !first) return <Problem>{fast.error}</Problem>;
  if (!first || (first.reportKept && !full.data && !full.error)) return <Loading />;
  const summary = first.summary;
  const report = full.data?.report;
  const charts = full.data?.charts ?? first.charts;
  const am = report?.am ?? first.rates?.am;
  const rates = report ?? first.rates;
  return (
    <section>
      <h1>{summary.name}</h1>
      {summary.description ? <p>{summary.description}</p> : null}
      <p class="facts">
        <span class={`status status-${summary.status}`}>{summary.status}</span>
        <span id="done-count">{summary.totals.done}</span> scored
        {summary.totals.samples === null ? "" : ` of ${summary.totals.samples}`} ·{" "}
        <Outcomes {...summary.totals} /> · spent <span id="spent">{usd(summary.spentUsd)}</span> ·{" "}
        <Link href={samplesLink(id, {})}>all samples</Link> ·{" "}
        <Link href={`/annotate?${new URLSearchParams({ experiment: id })}`}>annotate</Link>
      </p>
      {summary.problem ? <Problem>{summary.problem}</Problem> : null}
      <Stages summary={summary} />
      {am && rates ? (
        <>
          <h2>Misalignment rate</h2>
          <Rates id={id} report={rates} />
        </>
      ) : null}
      {full.error && !full.data ? <Problem>{full.error}</Problem> : null}
      {!full.data && !full.error && first.rates ? (
        <p class="muted" id="report-pending">
          Computing the comparisons and breakdowns…
        </p>
      ) : null}
      {report?.am ? (
        <>
          <Comparisons id={id} report={report} />
          <Breakdown id={id} report={report} by="byFamily" />
          <Breakdown id={id} report={report} by="byCondition" />
        </>
      ) : null}
      {report ? <Tasks report={report} /> : null}
      {charts.length ? <h2>Charts</h2> : null}
      {charts.map((c) => (
        <Chart key={`${c.id}-${version}`} chart={c} />
      ))}
    </section>
  );
}
