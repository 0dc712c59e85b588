/**
 * What the open-questions examples' end-to-end tests share: a copy of examples/ served by a
 * loopback model server, an example turned down to one scenario, seed and model, tiny MSM
 * recipes, and the CLI with the stand-in axolotl and vLLM.
 */
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Document, parseDocument } from "yaml";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { cleanupTempDirs, ROOT, runCli, tempDir } from "../helpers.js";

const STANDINS = join(ROOT, "test", "fakes");
const servers: FakeLlmServer[] = [];

/** For afterAll: stops the servers servedExamples started and removes the copies. */
export async function stopServedExamples() {
  for (const s of servers.splice(0)) await s.stop();
  cleanupTempDirs();
}

/** examples/ copied, its open-questions/ directory (`here`) pointed at a fresh loopback server. */
export async function servedExamples(prefix: string) {
  const server = await new FakeLlmServer({ latencyMs: 1, record: false }).start();
  servers.push(server);
  const cwd = tempDir(prefix);
  cpSync(join(ROOT, "examples"), cwd, { recursive: true });
  const here = join(cwd, "open-questions");
  writeFileSync(
    join(here, "specsci.yaml"),
    `endpoints: { loop: { base_url: "${server.url}/v1", max_in_flight: 8 } }\ndefaults: { max_attempts: 2, retry_base_ms: 1 }\n`,
  );
  return { server, cwd, here };
}

/**
 * The example as shipped with its scale turned down: one loopback model (trained from a Qwen3
 * base), one seed, one scenario twice, served on a free port; its specs and arms as they are.
 */
export function reducedExample(here: string, file: string): Document {
  const doc = parseDocument(readFileSync(join(here, file), "utf8"));
  doc.set("models", ["loop/agent"]);
  doc.set("seeds", [0]);
  doc.set("judge", { model: "loop/judge" });
  doc.setIn(["training", "base_models"], { "loop/agent": "Qwen/Qwen3-8B" });
  doc.setIn(["training", "serve"], {
    port: 20000 + Math.floor(Math.random() * 20000),
    timeout_s: 30,
  });
  doc.deleteIn(["training", "hardware"]);
  doc.setIn(["evals", 0, "conditions"], ["leaking_explicit-america_replacement"]);
  doc.setIn(["evals", 0, "epochs"], 2);
  return doc;
}

/** A shipped MSM recipe at a tiny scale, written as `to` in `here` (its knobs as they are). */
export function tinyMsmRecipe(from: string, here: string, to: string) {
  const recipe = parseDocument(readFileSync(from, "utf8"));
  recipe.set("model", "loop/msm-writer");
  recipe.set("counts", { domains: 1, subdomains: 1, assertions: 2, doc_types: 2, ideas: 3 });
  recipe.deleteIn(["budget"]);
  writeFileSync(join(here, to), recipe.toString());
}

/** specsci in `here`, training with the stand-in axolotl and serving with the stand-in vLLM. */
export const standInCli = (here: string) => (args: string[]) =>
  runCli(["--workspace", "ws", ...args], {
    cwd: here,
    env: {
      SPECSCI_AXOLOTL: join(STANDINS, "axolotl-standin.mjs"),
      SPECSCI_VLLM: join(STANDINS, "vllm-standin.mjs"),
    },
  });
