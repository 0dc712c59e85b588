/**
 * A task the core knows nothing about, registered from outside: experiments, reports and the
 * Inspect export must work for it from its definition alone.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { setLogLevel } from "../../src/core/log.js";
import { codeVersion } from "../../src/core/provenance.js";
import { exportInspectLog } from "../../src/evals/inspect.js";
import { validateEvalLog } from "../../src/evals/inspect-schema.js";
import type { TaskDefinition } from "../../src/evals/registry.js";
import { generateOnce, withSpec } from "../../src/evals/solvers.js";
import { registerTask } from "../../src/evals/tasks.js";
import type { Score } from "../../src/evals/types.js";
import { loadExperiment } from "../../src/experiment/config.js";
import { planExperiment } from "../../src/experiment/plan.js";
import { runExperiment } from "../../src/experiment/run.js";
import { buildStages } from "../../src/experiment/stages.js";
import { registerFakeModel } from "../../src/llm/providers/fake.js";
import { writeFigures, writeReport } from "../../src/report/index.js";
import { experimentResults } from "../../src/report/results.js";
import { cleanupTempDirs, makeClient } from "../helpers.js";

beforeAll(() => setLogLevel("quiet"));
afterAll(cleanupTempDirs);

const QUESTIONS = ["q1", "q2", "q3", "q4", "q5", "q6"];

/** Answers "yes" to every question with a spec in its prompt, "yes" to odd questions without. */
registerFakeModel("quiz-taker", (req) => {
  const user = req.messages.at(-1)?.content ?? "";
  const spec = req.messages.some((m) => m.role === "system" && m.content.includes("model_spec"));
  const n = Number(/q(\d)/.exec(user)?.[1] ?? 0);
  return spec || n % 2 === 1 ? "yes" : user.includes("q6") ? "<script>alert(1)</script>" : "no";
});

const quiz: TaskDefinition<{ questions: number }> = {
  name: "yes-quiz",
  aliases: ["yq"],
  summary: "Does the model say yes?",
  args: z.strictObject({ questions: z.number().int().positive().default(6) }),
  needs: { judge: false, spec: false },
  build(args, env) {
    return {
      name: "yes-quiz",
      version: "1",
      args: { questions: args.questions },
      dataset: QUESTIONS.slice(0, args.questions).map((q) =>
        withSpec(
          {
            id: q,
            input: [{ role: "user", content: `Say yes: ${q}` }],
            metadata: { half: q < "q4" ? "first" : "second" },
          },
          env.promptSpec,
        ),
      ),
      solver: {
        name: "generate",
        spec: { name: "generate" },
        async solve(sample, model, config, epoch, context, signal) {
          const completion = await generateOnce(
            sample.input,
            model,
            config,
            epoch,
            context,
            signal,
          );
          return { completion, parsed: null };
        },
      },
      scorers: [
        {
          name: "said",
          spec: { name: "said" },
          async score(state): Promise<Score> {
            const t = state.completion.text.trim();
            // "<script>…" names neither answer: invalid, in no mean.
            return t === "yes" || t === "no"
              ? { value: { yes: t === "yes" ? 1 : 0 }, answer: t }
              : { value: {}, answer: t };
          },
        },
      ],
      defaults: { max_tokens: 16, temperature: 0 },
    };
  },
  describe: () => ({ dataset: "six questions", size: "6", scorers: ["said"], metrics: ["yes"] }),
  fields: { half: "metadata:$.half", yes: "scores:$.said.value.yes" },
  metrics: [
    {
      name: "yes_rate",
      label: "yes rate",
      field: "yes",
      scale: "proportion",
      better: "higher",
      by: ["half"],
    },
  ],
  headline: "yes_rate",
  scorers: [{ name: "said", metrics: ["yes"], grader: false }],
  examples: { field: "scores:$.said.value.yes", order: "asc" },
};
registerTask(quiz);

function experiment(dir: string): string {
  const file = join(dir, "quiz.yaml");
  writeFileSync(
    file,
    `name: quiz
specs: { rules: rules }
arms:
  - { name: baseline, kind: baseline }
  - { name: rules, kind: prompted, spec: rules }
models: [fake/quiz-taker]
evals:
  - { task: yq, epochs: 2 }
judge: { model: fake/echo }
`,
  );
  return file;
}

describe("a task registered from outside", () => {
  it("is refused twice, and its settings are checked in an experiment file", () => {
    expect(() => registerTask(quiz)).toThrow(/already registered/);
    const { dir } = makeClient();
    const file = join(dir, "bad.yaml");
    writeFileSync(
      file,
      readFileSync(experiment(dir), "utf8").replace("epochs: 2", "epochs: 2, question: 3"),
    );
    expect(() => loadExperiment(file)).toThrow(
      /bad\.yaml:\d+:\d+: evals\.0\.question: unknown setting; did you mean questions\? \(known: questions, task, name, epochs/,
    );
  });

  it("runs in an experiment, and the report and the Inspect export carry its metrics", async () => {
    const { dir, client, store } = makeClient();
    const loaded = loadExperiment(experiment(dir));
    expect(loaded.experiment.evals[0]).toMatchObject({
      name: "yq",
      task: "yes-quiz",
      args: { questions: 6 },
    });
    // Planned like any task: 2 arms × 6 items × 2 epochs, no judge.
    const planned = planExperiment((await buildStages(loaded, client)).stages, client, store);
    expect(planned.totals).toMatchObject({ samples: 24, remaining: 24, judgeCalls: 0 });
    await runExperiment(loaded, client);
    const graph = await buildStages(loaded, client);
    const data = experimentResults(loaded, graph, store, codeVersion());
    expect(data.am).toBe(false);
    const t = data.tasks[0];
    const rate = (arm: string) => t?.arms.find((a) => a.arm === arm)?.summary.metrics[0]?.overall;
    // Baseline: q1, q3, q5 yes; q2, q4 no; q6 invalid (no answer) — 3 of 5 items.
    expect(rate("baseline")).toMatchObject({ items: 5, samples: 10, invalid: 2, mean: 0.6 });
    expect(rate("rules")).toMatchObject({ items: 6, mean: 1 });
    const c = t?.comparisons[0];
    expect(c).toMatchObject({ a: "rules", b: "baseline", pairs: 5, test: "paired t" });
    expect(c?.diff).toBeCloseTo(0.4, 10);
    // One comparison in the report: Holm leaves its p as it is.
    expect(c?.pHolm).toBeCloseTo(c?.p ?? Number.NaN, 12);
    const written = await writeReport(data, join(dir, "report.html"));
    const html = readFileSync(written.html, "utf8");
    expect(html).toContain('id="task-yq"');
    expect(html).not.toContain('id="main-figure"');
    expect(html).not.toContain("<script>alert(1)");
    expect(readFileSync(join(dir, "report-tasks.csv"), "utf8")).toMatch(
      /yq,yes-quiz,baseline,fake\/quiz-taker,yes_rate,proportion,higher,,,5,10,0\.6,/,
    );
    // Its paper figure is named by the task, drawn across the page, with both arms' bars.
    const figures = await writeFigures(data, join(dir, "figures"));
    expect(figures.figures.map((f) => [f.name, f.column])).toEqual([["yq-scores", "double"]]);
    const svg = readFileSync(join(dir, "figures", "yq-scores.svg"), "utf8");
    for (const arm of ["baseline", "rules"]) expect(svg).toContain(`>${arm}</text>`);
    const log = exportInspectLog(store, graph.stages[0]?.runId as string).log as {
      results: { scores: { name: string; metrics: { mean: { value: number } } }[] };
      eval: { scorers: { name: string; metrics: Record<string, unknown> }[] };
    };
    expect(validateEvalLog(log)).toEqual([]);
    expect(log.results.scores.map((s) => [s.name, s.metrics.mean.value])).toEqual([["yes", 0.6]]);
    expect(Object.keys(log.eval.scorers[0]?.metrics ?? {})).toEqual(["yes"]);
  });
});
