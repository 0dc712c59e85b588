/**
 * `specsci train register`: a model trained elsewhere (a local directory, or `hf:owner/repo`)
 * recorded in the trained-model registry, so that it is served and evaluated like one of ours.
 * What it was trained on is only what the user declares (`provenance`, a YAML file).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { SpecsciError } from "../core/errors.js";
import { readUserFile } from "../core/fs.js";
import { codeVersion } from "../core/provenance.js";
import type { Store } from "../store/index.js";
import { externalModelKey, type ModelArtifact, registerModel } from "./models.js";

export interface ExternalModel {
  /** Its name in the registry: the model is `external/<name>`. */
  name: string;
  /** The base model it sits on (a Hugging Face id or a local path). */
  base: string;
  /** A local directory, or `hf:owner/repo`. */
  path: string;
  /** Full weights rather than a LoRA adapter. */
  full?: boolean | undefined;
  seed?: number | undefined;
  /** A YAML file declaring how it was trained. */
  provenance?: string | undefined;
}

/**
 * The record of a model trained elsewhere, checked (errors name the option at fault) and with
 * its declared provenance read; nothing is stored yet.
 */
export function externalModel(m: ExternalModel): ModelArtifact {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(m.name))
    throw new SpecsciError(`--name ${m.name}: use letters, digits, '.', '_' or '-'`);
  const path = m.path.startsWith("hf:") ? m.path.slice(3) : resolve(m.path);
  if (!m.path.startsWith("hf:") && !existsSync(path))
    throw new SpecsciError(`--path ${m.path} does not exist`, {
      hint: "give a local directory, or hf:owner/repo",
    });
  const declared = m.provenance
    ? (parseYaml(
        readUserFile(m.provenance, "provenance file", { from: "--provenance" }),
      ) as unknown)
    : null;
  return {
    id: `external/${m.name}`,
    run: `external-${m.name}`,
    plan: m.provenance ?? "",
    base_model: m.base,
    stage: "external",
    stages: [],
    seed: m.seed ?? -1,
    engine: "external",
    hyperparameters: declared,
    output_dir: path,
    adapter: !m.full,
    configs: {},
    specsci: codeVersion(),
  };
}

/** Registers (or replaces) the record `externalModel` made, under the model's name. */
export function registerExternalModel(store: Store, name: string, artifact: ModelArtifact): void {
  registerModel(store, externalModelKey(name), artifact, {
    base_model: artifact.base_model,
    declared: artifact.hyperparameters !== null,
  });
}
