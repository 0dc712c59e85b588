/**
 * The quickstart: the bundled `examples/quickstart.yaml` experiment, run on whatever model this
 * machine can reach. Choosing that model is the only thing specific to it; planning, running and
 * reporting are the same as for any experiment.
 */
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { SpecsciError } from "../core/errors.js";
import { writeFileAtomic } from "../core/fs.js";
import { readSecret } from "../core/secrets.js";
import { setYamlValues, type YamlPath } from "../core/yaml-edit.js";
import {
  type DownloadProgress,
  downloadHfFile,
  hfCachePath,
  parseHfRef,
} from "../llm/local/hf-download.js";
import { isBuiltinModel, isLocalModel } from "../llm/model-id.js";
import { DEFAULT_MODELS } from "../llm/models.js";
import { BUILTIN_TINY, BUILTIN_TINY_JUDGE } from "../llm/providers/local.js";

/** The key that makes each provider's default models the quickstart's choice. */
const KEY_ENVS = { anthropic: "ANTHROPIC_API_KEY", openai: "OPENAI_API_KEY" } as const;

export const QUICKSTART_FILE = fileURLToPath(
  new URL("../../examples/quickstart.yaml", import.meta.url),
);

/** A small Qwen instruct model (≈0.4 GB, q4_k_m) that runs on a laptop CPU. */
export const DEFAULT_GGUF = "Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf";

export interface QuickstartModels {
  model: string;
  judge: string;
  /** Where the choice came from, for the user. */
  source:
    | "--model"
    | "--demo"
    | "defaults.target"
    | "ANTHROPIC_API_KEY"
    | "OPENAI_API_KEY"
    | "cached GGUF"
    | "download";
  /** Outputs come from specsci's built-in constructed model. */
  synthetic: boolean;
  /** A local model: run fewer, shorter samples (CPU inference is slow). */
  local: boolean;
  /** The model judges its own answers (no other judge was given or found). */
  selfJudged: boolean;
}

const OPTIONS_HINT =
  "choose one: --model <provider/model> (e.g. vllm/<name> for a local server, local/<path.gguf>); " +
  "set ANTHROPIC_API_KEY or OPENAI_API_KEY (environment or .env); put a .gguf in the model cache; " +
  "connect to the internet so the default model can be downloaded; or --demo for the built-in tiny model (synthetic outputs)";

/** .gguf files already downloaded into the model cache (built-in constructed models excluded). */
export function cachedGgufs(cacheDir: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory() && !(dir === cacheDir && e.name === "builtin")) walk(path);
      else if (e.isFile() && e.name.endsWith(".gguf")) found.push(path);
    }
  };
  walk(cacheDir);
  return found.sort();
}

/** The model id for a cached file: `local/hf:…` for Hub downloads (a readable name), else its path. */
function localId(cacheDir: string, path: string): string {
  const rel = relative(join(cacheDir, "hf"), path).split(sep);
  if (rel.length >= 4 && rel[0] !== "..") {
    const [owner, repo, revision, ...file] = rel;
    return `local/hf:${owner}/${repo}${revision === "main" ? "" : `@${revision}`}/${file.join("/")}`;
  }
  return `local/${path}`;
}

/**
 * Which model the quickstart runs on: `--model`, then specsci.yaml's `defaults.target`, then a
 * configured API key (with that provider's default models), then a GGUF already in the model
 * cache, then the default GGUF downloaded with progress. `--demo` uses the built-in tiny model and
 * its judge variant. The judge is `--judge`, else `defaults.judge`, else the one chosen with the
 * model. Offline with none of these, one error lists the options.
 */
export async function resolveQuickstartModels(opts: {
  model?: string | undefined;
  judge?: string | undefined;
  demo?: boolean | undefined;
  defaults?: { target?: string | undefined; judge?: string | undefined } | undefined;
  cacheDir: string;
  onDownloadProgress?: DownloadProgress | undefined;
}): Promise<QuickstartModels> {
  const pick = (
    model: string,
    judge: string,
    source: QuickstartModels["source"],
  ): QuickstartModels => {
    const chosenJudge = opts.judge ?? opts.defaults?.judge ?? judge;
    return {
      model,
      judge: chosenJudge,
      source,
      synthetic: isBuiltinModel(model),
      local: isLocalModel(model),
      selfJudged: chosenJudge === model,
    };
  };
  const byKey = (provider: keyof typeof DEFAULT_MODELS) =>
    pick(DEFAULT_MODELS[provider].target, DEFAULT_MODELS[provider].judge, KEY_ENVS[provider]);
  if (opts.model) return pick(opts.model, opts.model, "--model");
  if (opts.demo) return pick(`local/${BUILTIN_TINY}`, `local/${BUILTIN_TINY_JUDGE}`, "--demo");
  const target = opts.defaults?.target;
  if (target) return pick(target, target, "defaults.target");
  if (readSecret(KEY_ENVS.anthropic)) return byKey("anthropic");
  if (readSecret(KEY_ENVS.openai)) return byKey("openai");
  const ref = parseHfRef(DEFAULT_GGUF);
  const defaultPath = hfCachePath(opts.cacheDir, ref);
  const cached = cachedGgufs(opts.cacheDir);
  const chosen = cached.includes(defaultPath) ? defaultPath : cached[0];
  if (chosen) {
    const id = localId(opts.cacheDir, chosen);
    return pick(id, id, "cached GGUF");
  }
  try {
    await downloadHfFile(ref, opts.cacheDir, opts.onDownloadProgress);
  } catch (e) {
    throw new SpecsciError(
      `no model to run the quickstart on: no --model, no API key, no cached .gguf in ${opts.cacheDir}, and the default model could not be downloaded (${(e as Error).message})`,
      { hint: OPTIONS_HINT },
    );
  }
  return pick(`local/hf:${DEFAULT_GGUF}`, `local/hf:${DEFAULT_GGUF}`, "download");
}

/**
 * Writes the quickstart experiment for these models into `dir` (the bundled file with `models`
 * and `judge.model` replaced, everything else as written there, comments and formatting included)
 * and returns its path. Local models get one epoch and a shorter output budget, because CPU
 * inference is slow.
 */
export function writeQuickstartExperiment(dir: string, models: QuickstartModels): string {
  const edits: [YamlPath, unknown][] = [
    [["models"], [models.model]],
    [["judge", "model"], models.judge],
  ];
  if (models.local) edits.push([["evals", 0, "epochs"], 1]);
  if (models.local || models.synthetic)
    edits.push([["evals", 0, "max_tokens"], models.synthetic ? 64 : 1024]);
  const text = setYamlValues(readFileSync(QUICKSTART_FILE, "utf8"), edits);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "experiment.yaml");
  writeFileAtomic(
    path,
    `# Written by \`specsci quickstart\` from examples/quickstart.yaml (model: ${models.source}).\n${text}`,
  );
  return path;
}
