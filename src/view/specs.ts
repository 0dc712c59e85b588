/**
 * The Specs page's data: the specs of the store's experiments (as each experiment's stage graph
 * resolves them: files, library specs, derived variants from the store's artifacts), one spec's
 * structure with every rule and subrule by id, and the diff of two (`spec diff`'s `diffSpecs`).
 */

import { type SpecArtifact, specSource } from "../experiment/specs.js";
import { diffSpecs, formatDiff } from "../spec/diff.js";
import type { RuleBlock, Spec, SpecNode } from "../spec/model.js";
import { rulesOf } from "../spec/model.js";
import { renderSpec } from "../spec/render.js";
import type {
  SpecBlockView,
  SpecDiffResponse,
  SpecNodeView,
  SpecResponse,
  SpecSummary,
  SpecsResponse,
} from "./api-types.js";
import type { ExperimentIndex } from "./experiments.js";

/** What `specsci run` records of each spec (older stores lack it). */
interface RecordedSpecs {
  specs?: { name: string; hash: string }[];
}

function summaryOf(experiment: string, s: SpecArtifact, recorded: RecordedSpecs): SpecSummary {
  const ran = recorded.specs?.find((r) => r.name === s.name);
  return {
    experiment,
    name: s.name,
    hash: s.hash,
    source: specSource(s),
    rules: rulesOf(s.spec).length,
    changedSinceRun: ran !== undefined && ran.hash !== s.hash,
  };
}

const blockView = (b: RuleBlock): SpecBlockView =>
  b.kind === "subrules"
    ? {
        kind: "subrules",
        ordered: b.ordered,
        items: b.items.map((i) => ({ id: i.id, text: i.markdown })),
      }
    : { kind: "prose", text: b.markdown };

function nodeView(n: SpecNode): SpecNodeView {
  if (n.kind === "section")
    return { kind: "section", title: n.title, level: n.level, body: n.body.map(nodeView) };
  if (n.kind === "rule")
    return { kind: "rule", id: n.id, title: n.title, level: n.level, body: n.body.map(blockView) };
  return { kind: "prose", text: n.markdown };
}

export function specView(summary: SpecSummary, spec: Spec): SpecResponse {
  return {
    summary,
    title: spec.title ?? null,
    frontMatter: spec.frontMatter,
    nodes: spec.body.map(nodeView),
    markdown: renderSpec(spec),
  };
}

type Found = { summary: SpecSummary; spec: Spec } | { missing: string };

export class SpecIndex {
  constructor(private readonly experiments: ExperimentIndex) {}

  /** Every experiment's specs, and why an experiment's could not be resolved. */
  async list(): Promise<SpecsResponse> {
    const out: SpecsResponse = { specs: [], problems: [] };
    for (const id of this.experiments.ids()) {
      const got = await this.experiments.rebuilt(id);
      if (!got) continue;
      if ("problem" in got.rebuilt) {
        out.problems.push({ experiment: id, problem: got.rebuilt.problem });
        continue;
      }
      const recorded = got.run.config as RecordedSpecs;
      for (const s of got.rebuilt.graph.specs) out.specs.push(summaryOf(id, s, recorded));
      for (const p of got.rebuilt.graph.pending)
        out.problems.push({
          experiment: id,
          problem: `spec ${p.name} (derived from ${p.from} by ${p.transform}) is not made yet: \`specsci run\` makes it`,
        });
    }
    return out;
  }

  /** One spec of an experiment by name. */
  async find(experiment: string, name: string): Promise<Found> {
    const got = await this.experiments.rebuilt(experiment);
    if (!got) return { missing: `no experiment ${experiment}` };
    if ("problem" in got.rebuilt) return { missing: got.rebuilt.problem };
    const specs = got.rebuilt.graph.specs;
    const s = specs.find((x) => x.name === name);
    if (!s)
      return {
        missing: `no spec ${name} in experiment ${experiment} (its specs: ${specs.map((x) => x.name).join(", ") || "none"})`,
      };
    return { summary: summaryOf(experiment, s, got.run.config as RecordedSpecs), spec: s.spec };
  }

  async diff(experiment: string, a: string, b: string): Promise<SpecDiffResponse | Found> {
    const A = await this.find(experiment, a);
    if ("missing" in A) return A;
    const B = await this.find(experiment, b);
    if ("missing" in B) return B;
    const diff = diffSpecs(A.spec, B.spec);
    return { a: A.summary, b: B.summary, diff, text: formatDiff(diff, [a, b]) };
  }
}
