/**
 * Side by side: the same scenario (sample), epoch and seed under two arms of an experiment,
 * their answers, native reasoning, parsed actions and verdicts next to each other. Pick the arms
 * (and model, eval, seed); ←/→ (or k/j) step through the pairs, all of them or only the
 * discordant ones (both scored, verdicts differ). Everything shown is in the URL.
 */
import type {
  CompareResponse,
  CompareSide,
  ExperimentStagesResponse,
  PairKey,
  SampleVerdict,
  Transcript,
} from "../../api-types.js";
import { useJson, useStoreVersion } from "../api.js";
import { navigate, withQuery } from "../router.js";
import {
  ActionList,
  Choice,
  isTyping,
  jsonText,
  Link,
  Loading,
  Problem,
  ScoreTable,
  useKeys,
} from "../ui.js";

/** The URL parameters of the page (what `/api/compare` reads). */
const PARAMS = ["experiment", "a", "b", "model", "eval", "seed", "sample", "epoch", "only"];

const pageQuery = (query: URLSearchParams) => {
  const q = new URLSearchParams();
  for (const k of PARAMS) {
    const v = query.get(k);
    if (v) q.set(k, v);
  }
  return q;
};

/** The side-by-side page of two arms at one sample (any field left out takes its default). */
export function compareHref(p: Partial<Record<(typeof PARAMS)[number], string | number>>) {
  const q = new URLSearchParams();
  for (const k of PARAMS) if (p[k] !== undefined && p[k] !== "") q.set(k, String(p[k]));
  return withQuery("/compare", q);
}

/** Changes some parameters; `drop` are cleared (a sample of another eval is not this one). */
function change(query: URLSearchParams, set: Record<string, string>, drop: string[] = []) {
  const q = pageQuery(query);
  for (const k of drop) q.delete(k);
  for (const [k, v] of Object.entries(set)) v ? q.set(k, v) : q.delete(k);
  navigate(withQuery("/compare", q), { replace: true });
}

function stepTo(query: URLSearchParams, to: PairKey | null) {
  if (!to) return;
  const q = pageQuery(query);
  q.set("sample", to.sample);
  q.set("epoch", String(to.epoch));
  navigate(withQuery("/compare", q));
}

const VERDICT_WORDS: Record<SampleVerdict, string> = {
  misaligned: "misaligned",
  not: "not misaligned",
  error: "failed",
  truncated: "cut off",
  refusal: "refused",
  scored: "scored",
  missing: "not in this run",
};

/** Picking for one arm the other's: the two trade places (an arm is not compared with itself). */
function armSwap(name: string, v: string, pick: { a: string; b: string }) {
  if (name === "a" && v === pick.b) return { a: v, b: pick.a };
  if (name === "b" && v === pick.a) return { a: pick.b, b: v };
  return undefined;
}

function Pickers({ query, data }: { query: URLSearchParams; data: CompareResponse }) {
  const { options, pick } = data;
  // Another eval, model or seed has other samples: start at its first pair.
  const elsewhere = ["sample", "epoch"];
  // What the URL asks for already, while its page is on its way.
  const shown = { a: query.get("a") || pick.a, b: query.get("b") || pick.b };
  const choices: {
    label: string;
    name: string;
    value: string;
    options: string[];
    drop?: string[];
  }[] = [
    { label: "arm A", name: "a", value: pick.a, options: options.arms },
    { label: "arm B", name: "b", value: pick.b, options: options.arms },
    { label: "model", name: "model", value: pick.model, options: options.models, drop: elsewhere },
    { label: "eval", name: "eval", value: pick.eval, options: options.evals, drop: elsewhere },
    {
      label: "seed",
      name: "seed",
      value: String(pick.seed),
      options: options.seeds.map(String),
      drop: elsewhere,
    },
  ];
  return (
    <form class="filters" onSubmit={(e) => e.preventDefault()}>
      {choices.map((c) => (
        <Choice
          key={c.name}
          label={c.label}
          name={c.name}
          value={query.get(c.name) || c.value}
          options={c.options.map((o) => ({ value: o, label: o }))}
          onPick={(v) => change(query, armSwap(c.name, v, shown) ?? { [c.name]: v }, c.drop)}
        />
      ))}
      <label class="check">
        <input
          type="checkbox"
          name="only"
          checked={query.get("only") === "discordant"}
          onChange={(e) =>
            change(query, {
              only: (e.currentTarget as HTMLInputElement).checked ? "discordant" : "",
            })
          }
        />
        only discordant pairs ({data.discordant} of {data.pairs})
      </label>
    </form>
  );
}

function TextBlock(props: { title: string; text: string | null; open?: boolean; cls: string }) {
  if (props.text === null || props.text === "") return null;
  return (
    <details class={`block ${props.cls}`} open={props.open ?? true}>
      <summary>{props.title}</summary>
      <pre class="text">{props.text}</pre>
    </details>
  );
}

function Verdicts({ t }: { t: Transcript }) {
  return (
    <div class="side-verdicts">
      <ScoreTable scores={t.scores} />
      {t.judges.map((j, i) => (
        <div class="judge" key={`${j.scorer}-${i}`}>
          <div>
            <b>
              {j.scorer} judge {i + 1}
            </b>
            {j.model ? ` (${j.model})` : ""}: <code>{jsonText(j.verdict)}</code>
          </div>
          {j.rationale ? <p class="text">{j.rationale}</p> : null}
        </div>
      ))}
    </div>
  );
}

function Side({ side, query }: { side: CompareSide; query: URLSearchParams }) {
  const t = side.transcript;
  const transcriptHref = t
    ? withQuery(
        "/transcript",
        new URLSearchParams({
          experiment: query.get("experiment") ?? "",
          runId: t.runId,
          sampleId: t.sampleId,
          epoch_: String(t.epoch),
        }),
      )
    : null;
  return (
    <div class="side" data-arm={side.arm}>
      <h2>
        {side.arm}{" "}
        <span class={`verdict verdict-${side.verdict}`} data-verdict={side.verdict}>
          {VERDICT_WORDS[side.verdict]}
        </span>
      </h2>
      {side.runId === null ? (
        <Problem>{side.arm} has no eval run at this model, eval and seed.</Problem>
      ) : !t ? (
        <p class="muted">This sample is not in {side.arm}'s run (yet).</p>
      ) : (
        <>
          <p class="facts small">
            {t.model} · run {t.runId} ·{" "}
            <Link href={transcriptHref as string}>the whole transcript</Link>
          </p>
          {t.failure ? (
            <TextBlock title="why it has no score" text={jsonText(t.failure)} cls="failure" />
          ) : null}
          <TextBlock title="answer" text={t.answer} cls="side-answer" />
          <TextBlock title="native reasoning" text={t.reasoning} cls="side-reasoning" />
          <TextBlock title="scratchpad" text={t.scratchpad} open={false} cls="side-scratchpad" />
          {t.actions.length ? (
            <div class="side-actions">
              <h3>Parsed actions</h3>
              <ActionList actions={t.actions} />
            </div>
          ) : (
            <p class="muted small side-actions">No actions parsed.</p>
          )}
          <Verdicts t={t} />
          <TextBlock
            title="system prompt (with the arm's spec)"
            text={t.messages.find((m) => m.role === "system")?.content ?? null}
            open={false}
            cls="side-system"
          />
        </>
      )}
    </div>
  );
}

export function ComparePage({ query }: { query: URLSearchParams }) {
  const version = useStoreVersion();
  const q = pageQuery(query);
  const path = q.get("experiment") ? `/api/compare?${q}` : null;
  const { data, error } = useJson<CompareResponse>(path, [version]);
  useKeys((e) => {
    if (isTyping(e.target)) return;
    if (!data) return;
    if (e.key === "ArrowRight" || e.key === "j") stepTo(query, data.position.next);
    if (e.key === "ArrowLeft" || e.key === "k") stepTo(query, data.position.prev);
  });
  if (!path)
    return <Problem>Side by side needs an experiment: open it from an experiment's page.</Problem>;
  if (error) return <Problem>{error}</Problem>;
  if (!data) return <Loading />;
  const current = data;
  const { pick, position } = current;
  return (
    <section class="compare">
      <p class="nav">
        <Link href={`/experiments/${encodeURIComponent(current.experiment)}`}>← experiment</Link>
      </p>
      <h1>
        Side by side: {pick.a} vs {pick.b}
      </h1>
      <Pickers query={query} data={current} />
      {pick.sample === null ? (
        <p class="muted">Neither arm's run has samples here yet.</p>
      ) : (
        <>
          <p class="facts nav">
            <span id="pair">
              {pick.sample} · epoch {pick.epoch} · seed {pick.seed}
            </span>
            <span class="muted" id="position">
              {position.index >= 0
                ? `pair ${position.index + 1} of ${position.count}`
                : `not among the ${position.count} pair(s) shown`}
            </span>
            <button
              type="button"
              disabled={!position.prev}
              onClick={() => stepTo(query, position.prev)}
            >
              previous (←)
            </button>
            <button
              type="button"
              disabled={!position.next}
              onClick={() => stepTo(query, position.next)}
            >
              next (→)
            </button>
          </p>
          <div class="sides">
            <Side side={current.a} query={query} />
            <Side side={current.b} query={query} />
          </div>
        </>
      )}
    </section>
  );
}

/**
 * "Compare with arm…" on a transcript of an experiment's stage: the same sample, epoch and
 * seed under each other arm of the experiment.
 */
export function CompareWith(props: { experiment: string | null; t: Transcript }) {
  // The stage list only: the experiment's report would be computed for it otherwise.
  const { data } = useJson<ExperimentStagesResponse>(
    props.experiment ? `/api/experiments/${encodeURIComponent(props.experiment)}/stages` : null,
  );
  const stage = data?.stages.find((s) => s.runId === props.t.runId);
  if (!props.experiment || !data || !stage) return null;
  const others = [...new Set(data.stages.map((s) => s.arm))].filter((a) => a !== stage.arm);
  if (!others.length) return null;
  return (
    <p class="compare-with">
      Compare with arm:{" "}
      {others.map((arm, i) => (
        <span key={arm}>
          {i ? ", " : ""}
          <Link
            href={compareHref({
              experiment: props.experiment as string,
              a: stage.arm,
              b: arm,
              model: stage.model,
              eval: stage.eval,
              seed: stage.seed,
              sample: props.t.sampleId,
              epoch: props.t.epoch,
            })}
          >
            {arm}
          </Link>
        </span>
      ))}
    </p>
  );
}
