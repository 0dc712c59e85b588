/**
 * Specs: the specs of the store's experiments; one spec with every rule and subrule under its id
 * (`/specs/<experiment>/<spec>#SP1` links straight to a rule's text, for the other pages); the
 * diff of two specs as `specsci spec diff` shows it. Spec text is Markdown shown as written.
 */
import { useEffect, useState } from "preact/hooks";
import type {
  SpecBlockView,
  SpecDiffResponse,
  SpecNodeView,
  SpecResponse,
  SpecSummary,
  SpecsResponse,
} from "../../api-types.js";
import { useJson } from "../api.js";
import { NAVIGATED, navigate } from "../router.js";
import { Link, Loading, Problem } from "../ui.js";

const seg = encodeURIComponent;

/** The page of one spec of an experiment; with `rule`, at that rule's (or subrule's) text. */
export const specHref = (experiment: string, spec: string, rule?: string) =>
  `/specs/${seg(experiment)}/${seg(spec)}${rule ? `#${seg(rule)}` : ""}`;

export const specDiffHref = (experiment: string, a: string, b: string) =>
  `/specs/${seg(experiment)}/${seg(a)}/diff/${seg(b)}`;

/**
 * Scrolls to the element the URL's #fragment names once it is drawn, and marks it (the page is
 * drawn after its data arrives, so the browser's own jump to the fragment finds nothing).
 */
function useAnchor(ready: boolean, page: string) {
  const [moves, setMoves] = useState(0);
  useEffect(() => {
    const moved = () => setMoves((n) => n + 1);
    for (const e of ["hashchange", "popstate", NAVIGATED]) window.addEventListener(e, moved);
    return () => {
      for (const e of ["hashchange", "popstate", NAVIGATED]) window.removeEventListener(e, moved);
    };
  }, []);
  useEffect(() => {
    const hash = window.location.hash;
    if (!ready || !hash) return;
    for (const el of document.querySelectorAll(".targeted")) el.classList.remove("targeted");
    const el = document.getElementById(decodeURIComponent(hash.slice(1)));
    el?.classList.add("targeted");
    el?.scrollIntoView({ block: "start" });
  }, [ready, page, moves]);
}

function Block({ b }: { b: SpecBlockView }) {
  if (b.kind === "prose") return <p class="spec-prose">{b.text}</p>;
  const items = b.items.map((s) => (
    <li key={s.id} id={s.id} class="subrule">
      <a class="rule-id" href={`#${seg(s.id)}`}>
        {s.id}
      </a>{" "}
      <span class="spec-text">{s.text}</span>
    </li>
  ));
  return b.ordered ? <ol class="subrules">{items}</ol> : <ul class="subrules">{items}</ul>;
}

function Node({ n }: { n: SpecNodeView }) {
  if (n.kind === "prose") return <p class="spec-prose">{n.text}</p>;
  if (n.kind === "section")
    return (
      <section class="spec-section">
        <h2 class={`level-${n.level}`}>{n.title}</h2>
        {n.body.map((c, i) => (
          <Node key={i} n={c} />
        ))}
      </section>
    );
  return (
    <article class="rule" id={n.id}>
      <h3>
        <a class="rule-id" href={`#${seg(n.id)}`}>
          {n.id}
        </a>{" "}
        <span class="spec-text">{n.title}</span>
      </h3>
      {n.body.map((b, i) => (
        <Block key={i} b={b} />
      ))}
    </article>
  );
}

function Facts({ s }: { s: SpecSummary }) {
  return (
    <p class="facts small">
      {s.rules} rules · sha256 <code>{s.hash.slice(0, 16)}…</code> · {s.source} · experiment{" "}
      <Link href={`/experiments/${seg(s.experiment)}`}>{s.experiment}</Link>
      {s.changedSinceRun ? (
        <span class="warn">
          {" "}
          · changed since the experiment last ran (its results are for the earlier text)
        </span>
      ) : null}
    </p>
  );
}

/** Pick another spec of the same experiment to diff against. */
function DiffPicker(props: { experiment: string; spec: string; other?: string }) {
  const { data } = useJson<SpecsResponse>("/api/specs");
  const others = (data?.specs ?? []).filter(
    (s) => s.experiment === props.experiment && s.name !== props.spec,
  );
  if (!others.length) return null;
  return (
    <label class="diff-picker">
      diff against{" "}
      <select
        name="diff"
        value={props.other ?? ""}
        onChange={(e) => {
          const v = (e.currentTarget as HTMLSelectElement).value;
          navigate(
            v
              ? specDiffHref(props.experiment, props.spec, v)
              : specHref(props.experiment, props.spec),
          );
        }}
      >
        <option value="">—</option>
        {others.map((s) => (
          <option key={s.name} value={s.name}>
            {s.name}
          </option>
        ))}
      </select>
    </label>
  );
}

export function SpecPage(props: { experiment: string; spec: string }) {
  const { data, error } = useJson<SpecResponse>(
    `/api/specs/${seg(props.experiment)}/${seg(props.spec)}`,
  );
  // Ready once this spec (not the one shown before) is drawn.
  useAnchor(
    data?.summary.experiment === props.experiment && data.summary.name === props.spec,
    `${props.experiment}/${props.spec}`,
  );
  if (error) return <Problem>{error}</Problem>;
  if (!data) return <Loading />;
  return (
    <section class="spec">
      <p class="nav">
        <Link href="/specs">← specs</Link>{" "}
        <DiffPicker experiment={props.experiment} spec={props.spec} />
      </p>
      <h1>
        {data.summary.name}
        {data.title ? `: ${data.title}` : ""}
      </h1>
      <Facts s={data.summary} />
      {data.nodes.map((n, i) => (
        <Node key={i} n={n} />
      ))}
      <details class="block">
        <summary>as Markdown (canonical form)</summary>
        <pre class="text">{data.markdown}</pre>
      </details>
    </section>
  );
}

function RuleLink(props: { experiment: string; spec: string; id: string }) {
  return <Link href={specHref(props.experiment, props.spec, props.id)}>{props.id}</Link>;
}

export function SpecDiffPage(props: { experiment: string; a: string; b: string }) {
  const { data, error } = useJson<SpecDiffResponse>(
    `/api/specs/${seg(props.experiment)}/${seg(props.a)}/diff/${seg(props.b)}`,
  );
  if (error) return <Problem>{error}</Problem>;
  if (!data) return <Loading />;
  const { diff } = data;
  const ex = props.experiment;
  return (
    <section class="spec-diff">
      <p class="nav">
        <Link href="/specs">← specs</Link>{" "}
        <DiffPicker experiment={ex} spec={props.a} other={props.b} />
      </p>
      <h1>
        <Link href={specHref(ex, props.a)}>{props.a}</Link> →{" "}
        <Link href={specHref(ex, props.b)}>{props.b}</Link>
      </h1>
      <p class="facts" id="diff-counts">
        rules: {diff.rulesAdded.length} added, {diff.rulesRemoved.length} removed,{" "}
        {diff.rulesChanged.length} changed, {diff.rulesUnchanged.length} unchanged
      </p>
      <ul class="diff">
        {diff.rulesRemoved.map((r) => (
          <li key={`-${r.id}`} class="removed">
            − <RuleLink experiment={ex} spec={props.a} id={r.id} />: {r.title}
          </li>
        ))}
        {diff.rulesAdded.map((r) => (
          <li key={`+${r.id}`} class="added">
            + <RuleLink experiment={ex} spec={props.b} id={r.id} />: {r.title}
          </li>
        ))}
        {diff.rulesChanged.map((r) => (
          <li key={`~${r.id}`} class="changed" data-rule={r.id}>
            ~ <RuleLink experiment={ex} spec={props.a} id={r.id} /> →{" "}
            <RuleLink experiment={ex} spec={props.b} id={r.id} />
            <ul>
              {r.title ? (
                <li>
                  title: “{r.title.from}” → “{r.title.to}”
                </li>
              ) : null}
              {r.explanation.changed ? (
                <li>
                  explanation: {r.explanation.fromWords} → {r.explanation.toWords} words
                </li>
              ) : null}
              {r.subrulesRemoved.map((s) => (
                <li key={`-${s.id}`} class="removed">
                  − {s.id}: {s.text}
                </li>
              ))}
              {r.subrulesAdded.map((s) => (
                <li key={`+${s.id}`} class="added">
                  + {s.id}: {s.text}
                </li>
              ))}
              {r.subrulesChanged.map((s) => (
                <li key={`~${s.from.id}`} class="changed">
                  ~ {s.from.id} → {s.to.id}: “{s.from.text}” → “{s.to.text}”
                </li>
              ))}
            </ul>
          </li>
        ))}
        {diff.sectionsRemoved.map((s) => (
          <li key={`-s${s}`} class="removed">
            − section “{s}”
          </li>
        ))}
        {diff.sectionsAdded.map((s) => (
          <li key={`+s${s}`} class="added">
            + section “{s}”
          </li>
        ))}
        {diff.proseChanged ? (
          <li class="changed">~ prose outside rules (preamble or section text)</li>
        ) : null}
        {diff.frontMatterChanged.length ? (
          <li class="changed">~ front matter: {diff.frontMatterChanged.join(", ")}</li>
        ) : null}
      </ul>
      <details class="block">
        <summary>as `specsci spec diff` prints it</summary>
        <pre class="text">{data.text}</pre>
      </details>
    </section>
  );
}

export function SpecsPage() {
  const { data, error } = useJson<SpecsResponse>("/api/specs");
  if (error) return <Problem>{error}</Problem>;
  if (!data) return <Loading />;
  return (
    <section>
      <h1>Specs</h1>
      {data.problems.map((p) => (
        <Problem key={`${p.experiment}:${p.problem}`}>
          {p.experiment}: {p.problem}
        </Problem>
      ))}
      {data.specs.length === 0 ? (
        <p class="muted">No experiment in this store has specs yet.</p>
      ) : (
        <table class="grid" id="specs">
          <thead>
            <tr>
              <th>experiment</th>
              <th>spec</th>
              <th>rules</th>
              <th>source</th>
              <th>sha256</th>
              <th>diff against</th>
            </tr>
          </thead>
          <tbody>
            {data.specs.map((s) => (
              <tr key={`${s.experiment}/${s.name}`} data-spec={s.name}>
                <td>{s.experiment}</td>
                <td>
                  <Link href={specHref(s.experiment, s.name)}>{s.name}</Link>
                  {s.changedSinceRun ? <div class="warn small">changed since the run</div> : null}
                </td>
                <td class="num">{s.rules}</td>
                <td>{s.source}</td>
                <td>
                  <code>{s.hash.slice(0, 12)}</code>
                </td>
                <td>
                  {data.specs
                    .filter((o) => o.experiment === s.experiment && o.name !== s.name)
                    .map((o, i) => (
                      <span key={o.name}>
                        {i ? ", " : ""}
                        <Link href={specDiffHref(s.experiment, s.name, o.name)}>{o.name}</Link>
                      </span>
                    ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
