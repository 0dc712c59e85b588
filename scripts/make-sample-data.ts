/**
 * Writes the small synthetic sample corpus and chat set in examples/sample-data/, which
 * examples/recipes/train.yaml trains on, so the training commands can be tried in a fresh clone
 * with no model and no network. Both are made by specsci's own pipeline (`msm generate`,
 * `aft generate`, run through the CLI) with the loopback fake generator the tests use: the text is
 * filler words, and each manifest and dataset card says so.
 *
 *   npm run build && npx tsx scripts/make-sample-data.ts
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { FakeLlmServer } from "../test/fakes/llm-server.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "examples", "sample-data");

export const SAMPLE_NOTE =
  "SYNTHETIC SAMPLE: made by specsci's own pipeline with the fake generator its tests use (scripts/make-sample-data.ts). " +
  "The text is filler words, not data to train a model on: it is here so that `specsci train plan examples/recipes/train.yaml` " +
  "and the other training commands can be tried offline. Make real data with `specsci msm generate` and `specsci aft generate`.";

const MSM_RECIPE = `model: synthetic/msm-writer
seed: 42
counts: { domains: 3, subdomains: 2, assertions: 3, doc_types: 2, ideas: 4 }
stages: { documents: { max_tokens: 900 } }
`;
const AFT_RECIPE = `model: synthetic/aft-teacher
seed: 42
counts: { domains: 2, prompts: 8 }
budget: { examples: 24 }
`;

/** Paths as seen from the repository (the sample must read the same in every clone). */
function relativize(dir: string): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) relativize(path);
    else if (/\.(json|yaml|md)$/.test(name))
      writeFileSync(path, readFileSync(path, "utf8").replaceAll(`${ROOT}/`, ""));
  }
}

/** The note at the top of the manifest and under the card's title. */
function label(dir: string): void {
  const manifestFile = join(dir, "manifest.json");
  const manifest = JSON.parse(readFileSync(manifestFile, "utf8")) as Record<string, unknown>;
  writeFileSync(manifestFile, `${JSON.stringify({ note: SAMPLE_NOTE, ...manifest }, null, 2)}\n`);
  const cardFile = join(dir, "README.md");
  const card = readFileSync(cardFile, "utf8");
  writeFileSync(cardFile, card.replace(/^(# .*\n)/m, `$1\n> **${SAMPLE_NOTE}**\n`));
}

const run = promisify(execFile);
const server = await new FakeLlmServer({ record: false }).start();
const tmp = mkdtempSync(join(tmpdir(), "specsci-sample-"));
try {
  writeFileSync(
    join(tmp, "specsci.yaml"),
    `endpoints: { synthetic: { base_url: "${server.url}/v1", max_in_flight: 4 } }\n`,
  );
  writeFileSync(join(tmp, "msm.yaml"), MSM_RECIPE);
  writeFileSync(join(tmp, "aft.yaml"), AFT_RECIPE);
  const specsci = (...args: string[]) =>
    run(
      process.execPath,
      [
        join(ROOT, "bin", "specsci.js"),
        "-w",
        join(tmp, "ws"),
        "--config",
        join(tmp, "specsci.yaml"),
        ...args,
      ],
      { cwd: ROOT },
    );
  const sets = [
    ["msm", "msm-value-augmented"],
    ["aft", "aft-value-augmented"],
  ] as const;
  for (const [kind, name] of sets) {
    const dir = join(OUT, name);
    rmSync(dir, { recursive: true, force: true });
    const r = await specsci(
      kind,
      "generate",
      "value-augmented",
      "-r",
      join(tmp, `${kind}.yaml`),
      "-o",
      dir,
    );
    process.stdout.write(r.stdout);
    relativize(dir);
    label(dir);
  }
} finally {
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
}
