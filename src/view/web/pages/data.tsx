/**
 * Data: the MSM corpora and AFT chat sets the store's experiments train on. A set's page shows
 * how it was made (models, tree, gates, dedup), its statistics (`msm stats`) and every item in a
 * virtualized list paged by the server, with each item's provenance: spec hash and rules,
 * domain → subdomain → assertion → doc type → idea, the gates it passed, its dedup cluster and
 * tokens. Two corpora side by side as `msm compare` shows them.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type {
  DataCompareResponse,
  DataItem,
  DataItemRow,
  DataItemsPage,
  DataSetResponse,
  DataSetSummary,
  DataSetsResponse,
  MixShare,
} from "../../api-types.js";
import { getJson, useJson } from "../api.js";
import { usePagedRows } from "../paged.js";
import { navigate, withQuery } from "../router.js";
import { Choice, Link, Loading, num, Problem, pct } from "../ui.js";
import { useVirtualRows } from "../virtual.js";
import { specHref } from "./specs.js";

const PAGE = 100;
const ROW_HEIGHT = 34;
const count = (n: number | null) => (n === null ? "–" : n.toLocaleString("en-US"));

const setHref = (id: string, query?: Record<string, string>) =>
  withQuery(`/data/${encodeURIComponent(id)}`, new URLSearchParams(query));

const KIND_WORDS = {
  msm: "MSM corpus",
  aft: "AFT chat set",
  mix: "AFT mix",
  pref: "preference set",
} as const;

/** The spec page of the set's spec, in the first experiment that trains on it. */
function SpecLink({ s, rule }: { s: DataSetSummary; rule?: string }) {
  const experiment = s.usedBy[0]?.experiment;
  if (!s.spec) return <span class="muted">–</span>;
  const label = rule ?? s.spec.name;
  return experiment ? (
    <Link href={specHref(experiment, s.spec.name, rule)}>{label}</Link>
  ) : (
    <span>{label}</span>
  );
}

/** Where a set made outside any experiment came from: its command and the store's run of it. */
function MadeBy({ m }: { m: NonNullable<DataSetSummary["madeBy"]> }) {
  const run = m.recorded
    ? `run ${m.run}, ${m.status ?? "?"}, started ${m.started ?? "?"}`
    : `id ${m.run}; this store does not hold its run`;
  return (
    <span class="made-by">
      made by <code>{m.command}</code> outside any experiment ({run})
    </span>
  );
}

function UsedBy({ s }: { s: DataSetSummary }) {
  if (s.madeBy && s.usedBy.length === 0) return <MadeBy m={s.madeBy} />;
  return (
    <>
      {s.usedBy.map((u, i) => (
        <span key={`${u.experiment}/${u.arm}`}>
          {i ? ", " : ""}
          <Link href={`/experiments/${encodeURIComponent(u.experiment)}`}>{u.experiment}</Link>
          {u.arm ? ` / ${u.arm}` : ""}
        </span>
      ))}
    </>
  );
}

function ComparePicker({ sets }: { sets: DataSetSummary[] }) {
  const corpora = sets.filter((s) => s.kind === "msm" && s.made);
  const [a, setA] = useState(corpora[0]?.id ?? "");
  const [b, setB] = useState(corpora[1]?.id ?? corpora[0]?.id ?? "");
  if (corpora.length < 2) return null;
  const options = corpora.map((c) => ({
    value: c.id,
    label: `${c.name} (${c.dir.split("/").at(-1)})`,
  }));
  return (
    <form class="filters" onSubmit={(e) => e.preventDefault()}>
      <Choice label="corpus A" name="a" value={a} options={options} onPick={setA} />
      <Choice label="corpus B" name="b" value={b} options={options} onPick={setB} />
      <button
        type="button"
        onClick={() => navigate(withQuery("/data/compare", new URLSearchParams({ a, b })))}
      >
        compare (msm compare)
      </button>
    </form>
  );
}

export function DataSetsPage() {
  const { data, error } = useJson<DataSetsResponse>("/api/data");
  if (error) return <Problem>{error}</Problem>;
  if (!data) return <Loading />;
  return (
    <section>
      <h1>Data</h1>
      {data.sets.length === 0 ? (
        <p class="muted">
          No experiment in this store trains on data (trained arms, msm, aft and msm+aft, make an
          MSM corpus and an AFT chat set), and no <code>specsci msm build</code> or{" "}
          <code>aft build</code> made any here.
        </p>
      ) : (
        <>
          <table class="grid" id="data-sets">
            <thead>
              <tr>
                <th>set</th>
                <th>kind</th>
                <th>spec</th>
                <th>trained on by</th>
                <th>items</th>
                <th>tokens</th>
                <th>directory</th>
              </tr>
            </thead>
            <tbody>
              {data.sets.map((s) => (
                <tr key={s.id} data-set={s.id}>
                  <td>
                    {s.made ? <Link href={setHref(s.id)}>{s.name}</Link> : s.name}
                    {s.problem ? <div class="warn small">{s.problem}</div> : null}
                  </td>
                  <td>{KIND_WORDS[s.kind]}</td>
                  <td>
                    <SpecLink s={s} />
                  </td>
                  <td>
                    <UsedBy s={s} />
                  </td>
                  <td class="num">{count(s.items)}</td>
                  <td class="num">{count(s.tokens)}</td>
                  <td class="small">{s.dir}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <ComparePicker sets={data.sets} />
        </>
      )}
    </section>
  );
}

function Counts(props: { title: string; rows: { name: string; n: number }[] }) {
  if (!props.rows.length) return null;
  return (
    <div>
      <h3>{props.title}</h3>
      <table class="grid">
        <tbody>
          {props.rows.map((r) => (
            <tr key={r.name}>
              <th>{r.name}</th>
              <td class="num">{count(r.n)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function HowMade({ d }: { d: DataSetResponse }) {
  const m = d.manifest;
  return (
    <section id="provenance">
      <h2>How it was made</h2>
      <p class="facts small">
        {m.format} · id <code>{m.id ?? "–"}</code> · {m.created ?? ""}
      </p>
      <ul>
        {m.notes.map((n) => (
          <li key={n}>{n}</li>
        ))}
      </ul>
      <div class="columns">
        <Counts title="tree" rows={m.tree} />
        <Counts title="removed by each gate" rows={m.removed} />
        <div>
          <h3>gates every item passed</h3>
          <p id="gates-passed">{m.gatesPassed.join(", ") || "–"}</p>
          {m.gatesNotApplied.length ? (
            <>
              <h3>not applied</h3>
              <ul>
                {m.gatesNotApplied.map((g) => (
                  <li key={g}>{g}</li>
                ))}
              </ul>
            </>
          ) : null}
          {m.dedup ? (
            <p>
              dedup: {m.dedup.exact} exact, {m.dedup.near} near duplicates removed
              {m.dedup.threshold === null ? "" : ` (MinHash-LSH, Jaccard ≥ ${m.dedup.threshold})`}
            </p>
          ) : null}
        </div>
        {m.models.length ? (
          <div>
            <h3>models by stage</h3>
            <table class="grid">
              <tbody>
                {m.models.map((x) => (
                  <tr key={x.stage}>
                    <th>{x.stage}</th>
                    <td>{x.model}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        {m.composition.length ? (
          <Counts
            title="composition"
            rows={m.composition.map((c) => ({ name: c.source, n: c.examples }))}
          />
        ) : null}
      </div>
    </section>
  );
}

function Groups(props: {
  title: string;
  rows: { name: string; documents: number; tokens: number }[];
  tokens: number;
}) {
  return (
    <div>
      <h3>{props.title}</h3>
      <table class="grid">
        <thead>
          <tr>
            <th>{props.title.replace(/^by /, "")}</th>
            <th>documents</th>
            <th>tokens</th>
            <th>share</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((g) => (
            <tr key={g.name}>
              <td>{g.name}</td>
              <td class="num">{count(g.documents)}</td>
              <td class="num">{count(g.tokens)}</td>
              <td class="num">{pct(props.tokens ? g.tokens / props.tokens : null)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Stats({ d }: { d: DataSetResponse }) {
  const s = d.stats;
  if (!s) return null;
  const t = s.tokenLengths;
  return (
    <section id="stats">
      <h2>Statistics</h2>
      <p class="facts">
        {count(s.documents)} documents · {count(s.tokens)} tokens · {count(s.words)} words · token
        lengths min {t.min}, p10 {t.p10}, median {t.p50}, p90 {t.p90}, p99 {t.p99}, max {t.max},
        mean {num(t.mean, 1)}
      </p>
      <p class="facts small">
        balance (entropy, 1 is even): domains {num(s.balance.domains.entropy, 2)}, doc types{" "}
        {num(s.balance.docTypes.entropy, 2)} · distinct-n:{" "}
        {s.distinct.map((x) => `${x.n}: ${num(x.ratio, 3)}`).join(", ")}
      </p>
      <div class="columns">
        <Groups title="by domain" rows={s.byDomain} tokens={s.tokens} />
        <Groups title="by doc type" rows={s.byDocType} tokens={s.tokens} />
        {s.entities.top.length ? (
          <div>
            <h3>most repeated names</h3>
            <table class="grid">
              <tbody>
                {s.entities.top.slice(0, 10).map((e) => (
                  <tr key={e.name}>
                    <td>{e.name}</td>
                    <td class="num">{e.documents} docs</td>
                    <td class="num">{pct(e.documentShare)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </div>
    </section>
  );
}

function ItemRowCells({ row }: { row: DataItemRow }) {
  return (
    <>
      <div class="cell col-index">{row.index + 1}</div>
      <div class="cell col-path">{row.path.slice(0, 4).join(" → ")}</div>
      <div class="cell col-tokens">{row.tokens ?? ""}</div>
      <div class="cell col-preview">{row.preview}</div>
    </>
  );
}

function Items(props: {
  d: DataSetResponse;
  form: "reasoning" | "plain";
  selected: number | null;
  onPick: (i: number) => void;
}) {
  const { id } = props.d.summary;
  const key = `${id}/${props.form}`;
  const paged = usePagedRows<DataItemRow>(
    key,
    (offset, limit) =>
      getJson<DataItemsPage>(
        `/api/data/${encodeURIComponent(id)}/items?${new URLSearchParams({ offset: String(offset), limit: String(limit), form: props.form })}`,
      ),
    PAGE,
  );
  const scroller = useRef<HTMLDivElement>(null);
  const v = useVirtualRows(paged.total ?? 0, () => scroller.current, ROW_HEIGHT);
  const items = v.getVirtualItems();
  useEffect(
    () => paged.need(items.map((i) => i.index)),
    [items.map((i) => i.index).join(","), paged.total],
  );
  return (
    <div class="items">
      <p class="facts">
        <span id="item-total">{paged.total ?? "…"}</span> items
      </p>
      {paged.error ? <Problem>{paged.error}</Problem> : null}
      <div class="vtable data-table">
        <div class="vbody" ref={scroller}>
          <div style={{ height: `${v.getTotalSize()}px`, position: "relative" }}>
            {items.map((it) => {
              const row = paged.row(it.index);
              return (
                <button
                  type="button"
                  key={it.key}
                  class={`vrow item-row${props.selected === it.index ? " selected" : ""}`}
                  data-index={it.index}
                  style={{ transform: `translateY(${it.start}px)`, height: `${ROW_HEIGHT}px` }}
                  onClick={() => props.onPick(it.index)}
                >
                  {row ? <ItemRowCells row={row} /> : <div class="cell muted">…</div>}
                </button>
              );
            })}
          </div>
        </div>
      </div>
    </div>
  );
}

function ItemView(props: { d: DataSetResponse; index: number; form: "reasoning" | "plain" }) {
  const { id } = props.d.summary;
  const { data: item, error } = useJson<DataItem>(
    `/api/data/${encodeURIComponent(id)}/items/${props.index}?form=${props.form}`,
  );
  if (error) return <Problem>{error}</Problem>;
  if (!item || item.index !== props.index) return <Loading />;
  const s = props.d.summary;
  return (
    <div class="item" id="item">
      <h3>
        item {item.index + 1}: <code>{item.id}</code>
      </h3>
      <table class="grid provenance">
        <tbody>
          <tr>
            <th>spec</th>
            <td>
              {item.specName ?? ""}{" "}
              <code>{item.specHash ? `${item.specHash.slice(0, 16)}…` : "–"}</code>
              {item.specHash && s.spec?.hash && item.specHash !== s.spec.hash ? (
                <span class="muted"> (another spec than the set's: a mix input)</span>
              ) : null}
            </td>
          </tr>
          {item.ruleIds.length ? (
            <tr>
              <th>rules</th>
              <td class="rule-ids">
                {item.ruleIds.map((r, i) => (
                  <span key={r}>
                    {i ? ", " : ""}
                    <SpecLink s={s} rule={r} />
                  </span>
                ))}
              </td>
            </tr>
          ) : null}
          {item.path.map((p) => (
            <tr key={p.level}>
              <th>{p.level}</th>
              <td>{p.values.join(" · ")}</td>
            </tr>
          ))}
          <tr>
            <th>tokens</th>
            <td>
              {item.tokens ?? "–"}
              {item.tokenizer ? ` (${item.tokenizer})` : ""}
            </td>
          </tr>
          {item.source ? (
            <tr>
              <th>source</th>
              <td>{item.source}</td>
            </tr>
          ) : null}
          <tr>
            <th>gates passed</th>
            <td>{item.gatesPassed.join(", ") || "those of the set it came from"}</td>
          </tr>
          {item.judge ? (
            <tr>
              <th>judge</th>
              <td>
                <code>{JSON.stringify(item.judge)}</code>
              </td>
            </tr>
          ) : null}
          <tr>
            <th>dedup cluster</th>
            <td id="dedup-cluster">
              {item.duplicates.length
                ? item.duplicates
                    .map((d) => `${d.id} (${d.kind}, similarity ${num(d.similarity, 2)})`)
                    .join("; ")
                : item.kind === "msm"
                  ? "no duplicate of it was removed"
                  : "prompts are deduplicated before responses (see the set's counts)"}
            </td>
          </tr>
          {item.contamination ? (
            <tr>
              <th>contamination</th>
              <td class="warn">shares evaluation text: {item.contamination.join(" · ")}</td>
            </tr>
          ) : null}
        </tbody>
      </table>
      {item.text !== null ? <pre class="text item-text">{item.text}</pre> : null}
      {(item.messages ?? []).map((m, i) => (
        <details class="block" open={m.role !== "system"} key={i}>
          <summary>{m.role}</summary>
          <pre class="text">{m.content}</pre>
        </details>
      ))}
      <details class="block">
        <summary>every field of its line</summary>
        <pre class="text">{JSON.stringify(item.fields, null, 1)}</pre>
      </details>
    </div>
  );
}

export function DataSetPage({ id, query }: { id: string; query: URLSearchParams }) {
  const { data, error } = useJson<DataSetResponse>(`/api/data/${encodeURIComponent(id)}`);
  const form = query.get("form") === "plain" ? "plain" : "reasoning";
  const raw = query.get("item");
  const selected = raw !== null && /^\d+$/.test(raw) ? Number(raw) : null;
  const go = (set: Record<string, string>) => {
    const q = new URLSearchParams(query);
    for (const [k, v] of Object.entries(set)) v ? q.set(k, v) : q.delete(k);
    navigate(withQuery(`/data/${encodeURIComponent(id)}`, q), { replace: true });
  };
  if (error) return <Problem>{error}</Problem>;
  if (!data || data.summary.id !== id) return <Loading />;
  const s = data.summary;
  return (
    <section class="data-set">
      <p class="nav">
        <Link href="/data">← data</Link>
      </p>
      <h1>
        {s.name} <span class="muted small">{KIND_WORDS[s.kind]}</span>
      </h1>
      <p class="facts">
        spec <SpecLink s={s} /> <code>{s.spec?.hash ? `${s.spec.hash.slice(0, 16)}…` : ""}</code> ·{" "}
        {count(s.items)} items · {count(s.tokens)} tokens · trained on by <UsedBy s={s} />
      </p>
      <p class="small muted">{s.dir}</p>
      <HowMade d={data} />
      <Stats d={data} />
      <h2>Items</h2>
      {data.forms.length ? (
        <p class="filters">
          <label>
            form
            <select
              name="form"
              value={form}
              onChange={(e) =>
                go({
                  form: (e.currentTarget as HTMLSelectElement).value === "plain" ? "plain" : "",
                })
              }
            >
              <option value="reasoning">with reasoning</option>
              <option value="plain">without reasoning</option>
            </select>
          </label>
        </p>
      ) : null}
      <div class="item-browser">
        <Items d={data} form={form} selected={selected} onPick={(i) => go({ item: String(i) })} />
        {selected === null ? (
          <p class="muted">Pick an item to see it with its provenance.</p>
        ) : (
          <ItemView d={data} index={selected} form={form} />
        )}
      </div>
    </section>
  );
}

function MixTable(props: { title: string; a: MixShare[]; b: MixShare[] }) {
  const rows = Math.max(props.a.length, props.b.length);
  return (
    <div>
      <h3>{props.title} mix (share of tokens)</h3>
      <table class="grid">
        <thead>
          <tr>
            <th>A</th>
            <th>share</th>
            <th>B</th>
            <th>share</th>
          </tr>
        </thead>
        <tbody>
          {Array.from({ length: rows }, (_, i) => (
            <tr key={i}>
              <td>{props.a[i]?.name ?? ""}</td>
              <td class="num">{props.a[i] ? pct(props.a[i].share) : ""}</td>
              <td>{props.b[i]?.name ?? ""}</td>
              <td class="num">{props.b[i] ? pct(props.b[i].share) : ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function DataComparePage({ query }: { query: URLSearchParams }) {
  const a = query.get("a");
  const b = query.get("b");
  const { data, error } = useJson<DataCompareResponse>(
    a && b
      ? `/api/data/compare?${new URLSearchParams({ a, b, tolerance: query.get("tolerance") ?? "" })}`
      : null,
  );
  if (!a || !b) return <Problem>A comparison names two corpora: /data/compare?a=…&b=…</Problem>;
  if (error) return <Problem>{error}</Problem>;
  if (!data) return <Loading />;
  const c = data.comparison;
  type Side = typeof c.a;
  const row = (what: string, f: (s: Side) => string | number) => (
    <tr key={what}>
      <th>{what}</th>
      <td class="num">{f(c.a)}</td>
      <td class="num">{f(c.b)}</td>
    </tr>
  );
  return (
    <section class="data-compare">
      <p class="nav">
        <Link href="/data">← data</Link>
      </p>
      <h1>
        <Link href={setHref(data.ids[0])}>{c.a.name}</Link> vs{" "}
        <Link href={setHref(data.ids[1])}>{c.b.name}</Link>
      </h1>
      <p id="matched" class={c.matched ? "" : "problem"}>
        tokens differ by {(c.tokenDifference * 100).toFixed(2)}%:{" "}
        {c.matched ? "matched" : `NOT matched: ${c.problems.join("; ")}`} (tolerance{" "}
        {pct(c.tolerance)})
      </p>
      <table class="grid" id="compare-table">
        <thead>
          <tr>
            <th />
            <th>{c.a.dir}</th>
            <th>{c.b.dir}</th>
          </tr>
        </thead>
        <tbody>
          {row("spec", (s) => s.spec)}
          {row("documents", (s) => count(s.documents))}
          {row("tokens", (s) => count(s.tokens))}
          {row("generated", (s) => count(s.generated))}
          {row("duplicates removed", (s) => count(s.duplicates))}
          {row("truncation rate", (s) => pct(s.truncationRate))}
          {Object.keys({ ...c.a.gates, ...c.b.gates }).map((g) =>
            row(`gate ${g}`, (s) => s.gates[g] ?? 0),
          )}
          {Object.keys({ ...c.a.distinct, ...c.b.distinct }).map((k) =>
            row(`distinct-${k}`, (s) => num(s.distinct[k] ?? 0, 3)),
          )}
        </tbody>
      </table>
      <div class="columns">
        <MixTable title="domain" a={data.mixes.domains.a} b={data.mixes.domains.b} />
        <MixTable title="document type" a={data.mixes.docTypes.a} b={data.mixes.docTypes.b} />
      </div>
    </section>
  );
}
