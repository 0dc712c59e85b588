/** Every experiment of the store with its arms, models, seeds, stage status and spend; eval runs. */
import type { ExperimentSummary, ExperimentsResponse, RunsResponse } from "../../api-types.js";
import { useJson, useStoreVersion } from "../api.js";
import { Link, Loading, Outcomes, Problem, usd } from "../ui.js";

const stageStates = (e: ExperimentSummary) => {
  const counts = new Map<string, number>();
  for (const s of e.stages) counts.set(s.state, (counts.get(s.state) ?? 0) + 1);
  return [...counts].map(([state, n]) => `${n} ${state}`).join(", ") || "no stages yet";
};

function ExperimentRow({ e }: { e: ExperimentSummary }) {
  return (
    <tr data-experiment={e.id}>
      <td>
        <Link href={`/experiments/${encodeURIComponent(e.id)}`}>{e.name}</Link>
        {e.description ? <div class="muted small">{e.description}</div> : null}
      </td>
      <td>
        <span class={`status status-${e.status}`}>{e.status}</span>
      </td>
      <td>{e.arms.map((a) => a.name).join(", ")}</td>
      <td>{e.models.join(", ")}</td>
      <td>{e.seeds.join(", ")}</td>
      <td>
        {stageStates(e)}
        <div class="small">
          {e.totals.done}
          {e.totals.samples === null ? "" : ` / ${e.totals.samples}`} scored ·{" "}
          <Outcomes {...e.totals} />
        </div>
      </td>
      <td class="num">{usd(e.spentUsd)}</td>
    </tr>
  );
}

export function ExperimentsPage() {
  const version = useStoreVersion();
  const experiments = useJson<ExperimentsResponse>("/api/experiments", [version]);
  const runs = useJson<RunsResponse>("/api/runs", [version]);
  return (
    <section>
      <h1>Experiments</h1>
      {experiments.error ? <Problem>{experiments.error}</Problem> : null}
      {!experiments.data ? (
        <Loading />
      ) : experiments.data.experiments.length === 0 ? (
        <p class="muted">
          No experiment in this store yet: `specsci run experiment.yaml` makes one.
        </p>
      ) : (
        <table class="grid">
          <thead>
            <tr>
              <th>experiment</th>
              <th>status</th>
              <th>arms</th>
              <th>models</th>
              <th>seeds</th>
              <th>stages</th>
              <th>spent</th>
            </tr>
          </thead>
          <tbody>
            {experiments.data.experiments.map((e) => (
              <ExperimentRow key={e.id} e={e} />
            ))}
          </tbody>
        </table>
      )}
      <h2>Eval runs</h2>
      {runs.data ? (
        <table class="grid">
          <thead>
            <tr>
              <th>run</th>
              <th>task</th>
              <th>model</th>
              <th>experiment/arm</th>
              <th>scored</th>
              <th>without a score</th>
              <th>spent</th>
            </tr>
          </thead>
          <tbody>
            {runs.data.runs.map((r) => (
              <tr key={r.id}>
                <td>
                  <Link href={`/samples?run=${encodeURIComponent(r.id)}`}>{r.id}</Link>
                </td>
                <td>{r.task}</td>
                <td>{r.model}</td>
                <td>{r.arms.join(", ") || <span class="muted">eval run</span>}</td>
                <td class="num">
                  {r.done} / {r.sampleCount * r.epochs}
                </td>
                <td>
                  <Outcomes errors={r.errors} truncated={r.truncated} refused={r.refused} />
                </td>
                <td class="num">{usd(r.spentUsd)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <Loading />
      )}
    </section>
  );
}
