/**
 * The folder graph is one-way (docs/architecture.md): a module imports only modules on a lower
 * layer, never one beside or above it. Type-only and dynamic imports count too: a cycle through
 * types still ties the modules' tests and start-up together.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers.js";

/** Each module's layer; a module may import only modules of a lower one. */
const LAYERS: Record<string, number> = {
  core: 0,
  store: 1,
  llm: 2,
  spec: 3,
  data: 4,
  evals: 4,
  analysis: 5,
  train: 5,
  experiment: 6,
  report: 7,
  view: 8,
  testing: 9,
  cli: 9,
  "(root)": 10,
};

const SRC = join(ROOT, "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) ? [path] : [];
  });
}

/** The module a file under src/ belongs to: its first folder, or `(root)` for src/index.ts. */
function moduleOf(file: string): string {
  const parts = relative(SRC, file).split(sep);
  return parts.length > 1 ? (parts[0] as string) : "(root)";
}

interface Edge {
  from: string;
  to: string;
  file: string;
}

function importEdges(): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)) {
      const target = join(dirname(file), m[1] as string);
      if (!target.startsWith(SRC + sep)) continue;
      const from = moduleOf(file);
      const to = moduleOf(target);
      if (from !== to) edges.push({ from, to, file: relative(ROOT, file) });
    }
  }
  return edges;
}

/** Imports that go sideways or up, as `file: from -> to`; a module missing from LAYERS too. */
function layerViolations(edges: Edge[]): string[] {
  return edges
    .filter((e) => {
      const from = LAYERS[e.from];
      const to = LAYERS[e.to];
      return from === undefined || to === undefined || to >= from;
    })
    .map((e) => `${e.file}: ${e.from} -> ${e.to}`);
}

describe("the module graph", () => {
  it("is one-way: every import goes to a lower layer", () => {
    const edges = importEdges();
    expect(edges.length).toBeGreaterThan(100);
    expect(layerViolations(edges)).toEqual([]);
  });

  it("names an import beside, above or into an unknown module", () => {
    expect(
      layerViolations([
        { from: "evals", to: "analysis", file: "src/evals/x.ts" },
        { from: "data", to: "evals", file: "src/data/y.ts" },
        { from: "widgets", to: "core", file: "src/widgets/z.ts" },
        { from: "report", to: "experiment", file: "src/report/ok.ts" },
      ]),
    ).toEqual([
      "src/evals/x.ts: evals -> analysis",
      "src/data/y.ts: data -> evals",
      "src/widgets/z.ts: widgets -> core",
    ]);
  });
});
