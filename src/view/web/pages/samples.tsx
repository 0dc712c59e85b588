/**
 * Every sample of a run or an experiment in a virtualized table: the server filters, sorts and
 * pages (200,000 rows stay fast), the table fetches the pages it scrolls to. The filter, sort and
 * search live in the URL, so a view reloads and can be shared.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import {
  type SamplesPage as Page,
  type SAMPLE_SORTS,
  type SampleFilterOptions,
  type SampleRow,
  VERDICTS,
} from "../../api-types.js";
import { getJson, useJson, useStoreVersion } from "../api.js";
import { navigate, withQuery } from "../router.js";
import { Link, Problem } from "../ui.js";
import { useVirtualRows } from "../virtual.js";

const PAGE = 100;
const ROW_HEIGHT = 34;
/** Query parameters that make up the filter (the transcript page carries them along). */
export const FILTER_PARAMS = [
  "experiment",
  "run",
  "arm",
  "model",
  "eval",
  "seed",
  "epoch",
  "sample",
  "family",
  "verdict",
  "awareness",
  "category",
  "misuse",
  "labelled",
  "annotator",
  "human",
  "q",
  "sort",
  "order",
] as const;

export const filterOf = (query: URLSearchParams) => {
  const f = new URLSearchParams();
  for (const [k, v] of query)
    if ((FILTER_PARAMS as readonly string[]).includes(k) && v) f.append(k, v);
  return f;
};

function setParam(query: URLSearchParams, name: string, value: string) {
  const next = filterOf(query);
  next.delete(name);
  if (value) next.set(name, value);
  navigate(withQuery("/samples", next), { replace: true });
}

/** A select over one parameter: options are values, or values with the words shown for them. */
function Select(props: {
  query: URLSearchParams;
  name: string;
  label: string;
  options: (string | { value: string; label: string })[];
  title?: string;
}) {
  return (
    <label title={props.title}>
      {props.label}
      <select
        name={props.name}
        value={props.query.get(props.name) ?? ""}
        onChange={(e) =>
          setParam(props.query, props.name, (e.currentTarget as HTMLSelectElement).value)
        }
      >
        <option value="">any</option>
        {props.options.map((o) => {
          const { value, label } = typeof o === "string" ? { value: o, label: o } : o;
          return (
            <option key={value} value={value}>
              {label}
            </option>
          );
        })}
      </select>
    </label>
  );
}

function TextFilter(props: {
  query: URLSearchParams;
  name: string;
  label: string;
  placeholder?: string;
}) {
  const [value, setValue] = useState(props.query.get(props.name) ?? "");
  useEffect(() => setValue(props.query.get(props.name) ?? ""), [props.query, props.name]);
  return (
    <label>
      {props.label}
      <input
        name={props.name}
        type="search"
        value={value}
        placeholder={props.placeholder}
        onInput={(e) => setValue((e.currentTarget as HTMLInputElement).value)}
        onKeyDown={(e) => {
          if (e.key === "Enter") setParam(props.query, props.name, value.trim());
        }}
        onBlur={() =>
          value.trim() !== (props.query.get(props.name) ?? "") &&
          setParam(props.query, props.name, value.trim())
        }
      />
    </label>
  );
}

function Filters({ query }: { query: URLSearchParams }) {
  const experiment = query.get("experiment");
  // The choices alone: the experiment's report (its page's) is not computed for the filter bar.
  const { data: s } = useJson<SampleFilterOptions>(
    experiment ? `/api/experiments/${encodeURIComponent(experiment)}/filters` : null,
  );
  return (
    <form class="filters" onSubmit={(e) => e.preventDefault()}>
      {s ? (
        <>
          <Select query={query} name="arm" label="arm" options={s.arms} />
          <Select query={query} name="model" label="model" options={s.models} />
          <Select query={query} name="eval" label="eval" options={s.evals} />
          <Select query={query} name="seed" label="seed" options={s.seeds.map(String)} />
        </>
      ) : null}
      <Select query={query} name="verdict" label="verdict" options={[...VERDICTS]} />
      <TextFilter query={query} name="family" label="family" />
      <TextFilter query={query} name="sample" label="sample" placeholder="condition / item id" />
      <TextFilter query={query} name="epoch" label="epoch" />
      <TextFilter query={query} name="awareness" label="eval awareness" />
      {s?.categories ? (
        <>
          <Select
            query={query}
            name="category"
            label="reasoning"
            title="a category the reasoning analysis's primary labeller found"
            options={s.categories.map((c) => ({ value: c.id, label: c.name }))}
          />
          <Select
            query={query}
            name="misuse"
            label="policy misuse"
            title="a claim about a rule that misquotes or reinterprets it (as the report counts it)"
            options={["yes", "no"]}
          />
        </>
      ) : null}
      <Select
        query={query}
        name="labelled"
        label="human label"
        title="a current label of the answer as it is now, by anyone (or by the annotator named)"
        options={["yes", "no"]}
      />
      <TextFilter query={query} name="annotator" label="annotator" />
      <Select
        query={query}
        name="human"
        label="human: misaligned"
        options={["yes", "no", "unsure"]}
      />
      <TextFilter
        query={query}
        name="q"
        label="search answers"
        placeholder={'words, "a phrase", prefix*'}
      />
    </form>
  );
}

const verdictOf = (r: SampleRow) =>
  r.status === "error"
    ? "error"
    : r.status === "truncated"
      ? "cut off"
      : r.status === "refused"
        ? "refused"
        : r.decided === 1
          ? "misaligned"
          : r.decided === 0
            ? "not"
            : "scored";

const COLUMNS: { label: string; sort?: (typeof SAMPLE_SORTS)[number] }[] = [
  { label: "sample", sort: "sample" },
  { label: "epoch", sort: "epoch" },
  { label: "arm / model", sort: "run" },
  { label: "family" },
  { label: "verdict", sort: "verdict" },
  { label: "awareness" },
  { label: "answer" },
];

function Header({ query }: { query: URLSearchParams }) {
  const sort = query.get("sort") ?? "run";
  const order = query.get("order") ?? "asc";
  return (
    <div class="vrow vhead">
      {COLUMNS.map((c) => (
        <div key={c.label} class={`cell col-${c.label.split(" ")[0]}`}>
          {c.sort ? (
            <button
              type="button"
              class="sort"
              onClick={() => {
                const next = filterOf(query);
                next.set("sort", c.sort as string);
                next.set("order", sort === c.sort && order === "asc" ? "desc" : "asc");
                navigate(withQuery("/samples", next), { replace: true });
              }}
            >
              {c.label}
              {sort === c.sort ? (order === "asc" ? " ▲" : " ▼") : ""}
            </button>
          ) : (
            c.label
          )}
        </div>
      ))}
    </div>
  );
}

function Row({ row, index, filter }: { row: SampleRow; index: number; filter: URLSearchParams }) {
  const q = new URLSearchParams(filter);
  q.set("runId", row.runId);
  q.set("sampleId", row.sampleId);
  q.set("epoch_", String(row.epoch));
  q.set("i", String(index));
  const verdict = verdictOf(row);
  return (
    <>
      <div class="cell col-sample">
        <Link href={withQuery("/transcript", q)}>{row.sampleId}</Link>
      </div>
      <div class="cell col-epoch">{row.epoch}</div>
      <div class="cell col-arm">{row.arm ? `${row.arm} · ${row.model}` : row.model}</div>
      <div class="cell col-family">{row.family ?? ""}</div>
      <div class={`cell col-verdict verdict-${verdict.replace(" ", "-")}`}>{verdict}</div>
      <div class="cell col-awareness">{row.awareness ?? ""}</div>
      <div class="cell col-answer">
        {row.errorKind ? `[${row.errorKind}] ${row.preview}` : row.preview}
      </div>
    </>
  );
}

export function SamplesPage({ query }: { query: URLSearchParams }) {
  const version = useStoreVersion();
  const filter = filterOf(query);
  const key = filter.toString();
  const [pages, setPages] = useState<{
    key: string;
    total: number | null;
    rows: Map<number, SampleRow[]>;
  }>({
    key,
    total: null,
    rows: new Map(),
  });
  const [error, setError] = useState<string>();
  const loading = useRef(new Set<string>());
  const scroller = useRef<HTMLDivElement>(null);
  const current =
    pages.key === key ? pages : { key, total: null, rows: new Map<number, SampleRow[]>() };

  const load = (page: number) => {
    const id = `${key}#${page}#${version}`;
    if (loading.current.has(id)) return;
    loading.current.add(id);
    const q = new URLSearchParams(filter);
    q.set("offset", String(page * PAGE));
    q.set("limit", String(PAGE));
    getJson<Page>(`/api/samples?${q}`).then(
      (p) => {
        setError(undefined);
        setPages((old) => {
          const base =
            old.key === key ? old : { key, total: null, rows: new Map<number, SampleRow[]>() };
          const rows = new Map(base.rows);
          rows.set(page, p.rows);
          return { key, total: p.total, rows };
        });
      },
      (e: Error) => setError(e.message),
    );
  };

  // A new filter, or new samples written: start again from the first page.
  useEffect(() => {
    loading.current.clear();
    setPages({ key, total: null, rows: new Map() });
    load(0);
  }, [key, version]);

  const v = useVirtualRows(current.total ?? 0, () => scroller.current, ROW_HEIGHT);
  const items = v.getVirtualItems();
  useEffect(() => {
    for (const it of items) {
      const page = Math.floor(it.index / PAGE);
      if (!current.rows.has(page)) load(page);
    }
  }, [items.map((i) => i.index).join(","), current.rows]);

  return (
    <section class="samples">
      <h1>Samples</h1>
      <Filters query={query} />
      <p class="facts">
        <span id="sample-total">{current.total ?? "…"}</span> samples
        {query.get("experiment") ? (
          <>
            {" "}
            in{" "}
            <Link href={`/experiments/${encodeURIComponent(query.get("experiment") as string)}`}>
              the experiment
            </Link>
          </>
        ) : null}
      </p>
      {error ? <Problem>{error}</Problem> : null}
      <div class="vtable">
        <Header query={query} />
        <div class="vbody" ref={scroller}>
          <div style={{ height: `${v.getTotalSize()}px`, position: "relative" }}>
            {items.map((it) => {
              const row = current.rows.get(Math.floor(it.index / PAGE))?.[it.index % PAGE];
              return (
                <div
                  key={it.key}
                  class="vrow"
                  data-index={it.index}
                  style={{ transform: `translateY(${it.start}px)`, height: `${ROW_HEIGHT}px` }}
                >
                  {row ? (
                    <Row row={row} index={it.index} filter={filter} />
                  ) : (
                    <div class="cell muted">…</div>
                  )}
                </div>
              );
            })}
          </div>
        </div>
      </div>
    </section>
  );
}
