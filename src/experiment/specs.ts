/**
 * The spec artifacts of an experiment: library specs, files, and variants derived from them by a
 * transform. A derived spec is keyed by a hash of its parent's content, the transform, its
 * parameters, the model and the prompt version; it is made once (model-assisted transforms make
 * model calls) and read back from the store while those inputs are unchanged.
 */
import { resolve } from "node:path";
import { SpecsciError } from "../core/errors.js";
import { requireUserPath } from "../core/fs.js";
import { hashValue } from "../core/hash.js";
import { log } from "../core/log.js";
import type { LlmClient } from "../llm/client.js";
import { deriveCheckedSpec, UnsoundDerivedSpec } from "../spec/derive.js";
import { specHash } from "../spec/hash.js";
import { checkSpecFile, requireValidSpec } from "../spec/io.js";
import { resolveSpecRef } from "../spec/library.js";
import type { Spec } from "../spec/model.js";
import { parseSpec } from "../spec/parse.js";
import type { PlaceholderValues } from "../spec/placeholders.js";
import { type DeriveParams, TRANSFORMS } from "../spec/transforms/index.js";
import { PROMPT_VERSIONS } from "../spec/transforms/prompts.js";
import type { DeriveConfig, DeriveParamsConfig, LoadedExperiment } from "./config.js";

export interface SpecArtifact {
  name: string;
  /** The file it was read from; null for a derived spec (it lives in the store). */
  file: string | null;
  spec: Spec;
  hash: string;
  /** How it was derived, when it was. */
  derived: { from: string; transform: string; model: string | null; key: string } | null;
}

/** A derived spec not made yet: its key is null while its parent is itself still to be made. */
export interface PendingSpec {
  name: string;
  from: string;
  transform: string;
  model: string | null;
  key: string | null;
}

/** Where a spec came from, in words: its file, or its parent, transform and model. */
export function specSource(s: SpecArtifact): string {
  if (!s.derived) return s.file ?? "";
  const d = s.derived;
  return `derived from ${d.from} by ${d.transform}${d.model ? ` (written by ${d.model})` : ""}`;
}

export interface ResolvedSpecs {
  ready: SpecArtifact[];
  pending: PendingSpec[];
}

function readSpec(
  loaded: LoadedExperiment,
  name: string,
  source: string | { file: string; set?: PlaceholderValues | undefined } | { library: string },
): SpecArtifact {
  let file: string;
  const from = `specs.${name} in ${loaded.file}`;
  if (typeof source === "string") file = resolveSpecRef(source, { dir: loaded.dir, from });
  else if ("file" in source)
    file = requireUserPath(resolve(loaded.dir, source.file), "spec file", "file", {
      from: `specs.${name}.file in ${loaded.file}`,
      hint: "paths in an experiment file are relative to its directory",
    });
  else file = resolveSpecRef(source.library, { from: `specs.${name}.library in ${loaded.file}` });
  const set = typeof source === "object" && "set" in source ? source.set : undefined;
  const { spec, diagnostics } = checkSpecFile(file, { set: set ?? {} });
  requireValidSpec(
    spec,
    diagnostics,
    file,
    (names) =>
      `${from}: give each a value in the spec's set:, e.g. ${name}: { file: …, set: { ${names.map((n) => `${n}: VALUE`).join(", ")} } }`,
  );
  return { name, file, spec, hash: specHash(spec), derived: null };
}

function toDeriveParams(p: DeriveParamsConfig, specs: Map<string, SpecArtifact>): DeriveParams {
  const out: DeriveParams = {};
  if (p.keep_preamble !== undefined) out.keepPreamble = p.keep_preamble;
  if (p.rules) out.rules = p.rules;
  if (p.sections) out.sections = p.sections;
  if (p.model_name !== undefined) out.modelName = p.model_name;
  if (p.developer !== undefined) out.developer = p.developer;
  if (p.humans !== undefined) out.humans = p.humans;
  if (p.start !== undefined) out.start = p.start;
  if (p.words !== undefined) out.words = p.words;
  if (p.count !== undefined) out.count = p.count;
  if (p.mode !== undefined) out.mode = p.mode;
  if (p.lang !== undefined) out.lang = p.lang;
  if (p.title !== undefined) out.title = p.title;
  if (p.tokenizer !== undefined) out.tokenizer = p.tokenizer;
  if (p.tolerance !== undefined) out.tolerance = p.tolerance;
  if (p.rounds !== undefined) out.rounds = p.rounds;
  if (p.rung !== undefined) out.rung = p.rung;
  if (p.steps !== undefined) out.steps = p.steps;
  if (p.paragraphs !== undefined) out.paragraphs = p.paragraphs as Record<string, number>;
  if (p.target_tokens !== undefined) out.targetTokens = p.target_tokens;
  if (p.to !== undefined) {
    const target = specs.get(p.to) as SpecArtifact;
    out.to = { spec: target.spec, label: target.name };
  }
  return out;
}

/** Everything that determines a derived spec, hashed: equal keys mean the same variant. */
function derivationKey(
  d: DeriveConfig,
  parent: SpecArtifact,
  specs: Map<string, SpecArtifact>,
): string {
  const { to, ...params } = d.params;
  return hashValue({
    kind: "derived-spec",
    parent: parent.hash,
    transform: d.transform,
    params,
    to: to === undefined ? null : (specs.get(to) as SpecArtifact).hash,
    model: TRANSFORMS[d.transform].model ? (d.model ?? null) : null,
    prompt_version: PROMPT_VERSIONS[d.transform as keyof typeof PROMPT_VERSIONS] ?? null,
  });
}

/**
 * Resolves every spec of an experiment. Deterministic transforms are always applied (they cost
 * nothing); a model-assisted one is read from the store if it was made before, made now when
 * `derive` is set, and otherwise reported as pending.
 */
export async function resolveSpecs(
  loaded: LoadedExperiment,
  client: LlmClient,
  options: { derive: boolean; runId?: string },
): Promise<ResolvedSpecs> {
  const entries = Object.entries(loaded.experiment.specs);
  const ready = new Map<string, SpecArtifact>();
  const pending = new Map<string, PendingSpec>();
  for (const [name, source] of entries)
    if (typeof source !== "object" || !("derive" in source))
      ready.set(name, readSpec(loaded, name, source));
  // Derived specs in dependency order: each pass makes those whose inputs are known.
  let todo = entries.filter(([, s]) => typeof s === "object" && "derive" in s) as [
    string,
    { derive: DeriveConfig },
  ][];
  while (todo.length) {
    const next: typeof todo = [];
    for (const [name, { derive: d }] of todo) {
      const inputs = [d.from, ...(d.params.to ? [d.params.to] : [])];
      if (inputs.some((i) => pending.has(i))) {
        pending.set(name, {
          name,
          from: d.from,
          transform: d.transform,
          model: d.model ?? null,
          key: null,
        });
        continue;
      }
      if (!inputs.every((i) => ready.has(i))) {
        next.push([name, { derive: d }]);
        continue;
      }
      const parent = ready.get(d.from) as SpecArtifact;
      const key = derivationKey(d, parent, ready);
      const info = {
        from: d.from,
        transform: d.transform,
        model: TRANSFORMS[d.transform].model ? (d.model ?? null) : null,
        key,
      };
      const stored = client.store.artifacts.get(key);
      let markdown: string | undefined = stored?.content;
      if (markdown === undefined && (options.derive || !TRANSFORMS[d.transform].model)) {
        if (TRANSFORMS[d.transform].model)
          log.info(`[spec/${name}] deriving from ${d.from} by ${d.transform} with ${d.model}`);
        const model = TRANSFORMS[d.transform].model
          ? {
              model: client.model(d.model as string),
              context: { runId: options.runId ?? "spec-derive", stage: `spec/${name}` },
              attempts: d.params.attempts ?? 3,
              ...(d.params.temperature !== undefined ? { temperature: d.params.temperature } : {}),
            }
          : undefined;
        const result = await deriveCheckedSpec(
          parent.spec,
          d.transform,
          toDeriveParams(d.params, ready),
          { name, ...(model ? { model } : {}) },
        ).catch((e: unknown) => {
          if (!(e instanceof UnsoundDerivedSpec)) throw e;
          throw new SpecsciError(
            `${loaded.file}: spec "${name}": the derived variant does not lint clean: ${e.problems.map((x) => x.message).join("; ")}`,
            {
              hint: "try again with another model or other parameters, or derive it with `specsci spec derive` and use the file",
            },
          );
        });
        markdown = result.markdown;
        if (TRANSFORMS[d.transform].model)
          client.store.artifacts.put(key, "spec", markdown, {
            name,
            ...info,
            lineage: result.lineage,
          });
      }
      if (markdown === undefined) {
        pending.set(name, { name, ...info });
        continue;
      }
      const spec = parseSpec(markdown).spec;
      ready.set(name, { name, file: null, spec, hash: specHash(spec), derived: info });
    }
    if (next.length === todo.length)
      throw new Error("spec derivation order did not progress (a cycle the schema missed)");
    todo = next;
  }
  // In the experiment file's order.
  return {
    ready: entries.map(([n]) => ready.get(n)).filter((s): s is SpecArtifact => !!s),
    pending: entries.map(([n]) => pending.get(n)).filter((s): s is PendingSpec => !!s),
  };
}
