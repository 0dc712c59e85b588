/**
 * The corpus directory: `dataset.jsonl` (text plus provenance on every line, shuffled with the
 * corpus seed), `manifest.json` (config, counts, tokens, gates, dedup, budget, cost, diversity),
 * a Hugging Face style dataset card `README.md`, and training exports. Files are written beside
 * their final names and renamed into place, so a directory never holds half a dataset.
 */

import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../../core/fs.js";
import { sha256Hex } from "../../core/hash.js";
import { writeLines } from "../../core/jsonl.js";
import { codeVersion } from "../../core/provenance.js";
import { nowIso } from "../../core/time.js";
import type { Store } from "../../store/index.js";
import { type CorpusStats, corpusStats, type GroupCount } from "../corpus-stats.js";
import {
  cell,
  DEFAULT_LICENSE,
  datasetCard,
  fieldList,
  recordSchema,
  usageSections,
} from "../dataset-card.js";
import { CARD_FILE, CORPUS_FILES, MANIFEST_FILE, MSM_MANIFEST_FORMAT } from "../manifest.js";
import { usageSummary } from "../usage.js";
import { STAGES, stageSettings } from "./config.js";
import type { CorpusBuild, CorpusDocument } from "./pipeline.js";
import { promptVersions } from "./prompts.js";
import { trainingPurposeLine } from "./purpose.js";

/** One line of dataset.jsonl. */
export function datasetLine(b: CorpusBuild, d: CorpusDocument): Record<string, unknown> {
  const a = new Map(d.idea.type.assertions.map((x) => [x.id, x]));
  const used = d.idea.assertion_ids.map((id) => a.get(id)).filter((x) => x !== undefined);
  return {
    text: d.record.content,
    id: d.key,
    corpus: b.ctx.corpusId,
    spec_hash: b.ctx.specHash,
    spec_name: b.ctx.specName,
    rule_ids: [...new Set(used.flatMap((x) => x.rule_ids))].sort(),
    domain: d.idea.type.sub.domain.name,
    subdomain: d.idea.type.sub.name,
    doc_type: d.idea.type.name,
    assertion_ids: d.idea.assertion_ids,
    assertion_labels: used.map((x) => x.label),
    idea: { author: d.idea.author, situation: d.idea.situation, summary: d.idea.summary },
    generator_model: d.record.model,
    prompt_version: d.record.prompt_version,
    seed: d.record.seed,
    token_count: d.record.tokens,
    tokenizer: b.ctx.config.tokenizer,
    attribution: b.ctx.config.knobs.attribution,
    framing: b.ctx.config.knobs.framing,
    language: b.ctx.config.knobs.language,
    reasoning_style: b.ctx.style,
    ...(b.training_purpose ? { training_purpose_asked: d.record.training_purpose === true } : {}),
    ...(d.judge ? { judge: { realism: d.judge.realism, faithfulness: d.judge.faithfulness } } : {}),
  };
}

export interface WrittenCorpus {
  dir: string;
  manifest: Record<string, unknown>;
  stats: CorpusStats;
}

export async function writeCorpus(
  b: CorpusBuild,
  dir: string,
  store: Store,
  source: { spec: string },
): Promise<WrittenCorpus> {
  mkdirSync(join(dir, "exports"), { recursive: true });
  const seed = b.ctx.config.seed;
  const order = b.documents
    .map((d) => ({ d, h: sha256Hex(`${seed}:shuffle:${d.key}`) }))
    .sort((x, y) => (x.h < y.h ? -1 : 1))
    .map((x) => x.d);
  const datasetPath = join(dir, CORPUS_FILES.dataset);
  const records = order.map((d) => datasetLine(b, d));
  await writeLines(
    datasetPath,
    records.map((r) => JSON.stringify(r)),
  );
  const exportPath = join(dir, CORPUS_FILES.text);
  await writeLines(
    exportPath,
    (function* () {
      for (const d of order) yield JSON.stringify({ text: d.record.content });
    })(),
  );
  writeFileAtomic(
    join(dir, CORPUS_FILES.axolotl),
    `# axolotl datasets entry for this corpus (completion training on raw text).\ndatasets:\n  - path: ${JSON.stringify(resolve(exportPath))}\n    ds_type: json\n    type: completion\n    field: text\n`,
  );
  const stats = await corpusStats(datasetPath);
  const manifest = {
    format: MSM_MANIFEST_FORMAT,
    name: b.ctx.config.name ?? b.ctx.specName,
    corpus_id: b.ctx.corpusId,
    created: nowIso(),
    specsci: codeVersion(),
    spec: {
      name: b.ctx.specName,
      hash: b.ctx.specHash,
      source: source.spec,
      rule_ids: b.ctx.ruleIds,
    },
    subject: b.ctx.subject.full,
    reasoning_style: b.ctx.style,
    config: b.ctx.config,
    models: Object.fromEntries(STAGES.map((s) => [s, stageSettings(b.ctx.config, s)])),
    prompts: promptVersions(),
    tree: b.tree,
    items: b.stages,
    documents: { generated: b.generated, waves: b.waves, kept: b.documents.length },
    gates: b.gates,
    skipped_gates: b.skipped_gates,
    truncation: b.truncation,
    dedup: { exact: b.dedup.exact, near: b.dedup.near, params: b.dedup.params },
    contamination: b.contamination,
    budget: b.budget,
    judge: b.judge,
    ...(b.training_purpose ? { training_purpose: b.training_purpose } : {}),
    tokens: { tokenizer: b.ctx.config.tokenizer, total: stats.tokens },
    usage: usageSummary(store, b.ctx.corpusId),
    stats,
    files: { ...CORPUS_FILES },
  };
  await writeLines(
    join(dir, CORPUS_FILES.duplicates),
    b.dedup.duplicates.map((d) => JSON.stringify(d)),
  );
  const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
  writeFileAtomic(join(dir, MANIFEST_FILE), manifestText);
  writeFileAtomic(
    join(dir, CARD_FILE),
    corpusCard(manifest, { manifestSha256: sha256Hex(manifestText), records }, stats, b),
  );
  store.runs.recordOutput(b.ctx.corpusId, resolve(dir));
  return { dir, manifest, stats };
}

const n = (x: number) => x.toLocaleString("en-US");

const ISO_639_1: Record<string, string> = {
  english: "en",
  german: "de",
  french: "fr",
  spanish: "es",
  italian: "it",
  portuguese: "pt",
  dutch: "nl",
  russian: "ru",
  chinese: "zh",
  japanese: "ja",
  korean: "ko",
  arabic: "ar",
  hindi: "hi",
  turkish: "tr",
  polish: "pl",
  swedish: "sv",
  vietnamese: "vi",
  indonesian: "id",
};

/** The card's `language:` wants ISO 639-1 codes; an unknown language is left out, not guessed. */
const isoLanguage = (language: string) =>
  /^[a-z]{2}$/.test(language) ? language : ISO_639_1[language.toLowerCase()];

/** The manifest fields a card repeats. */
interface CardSource {
  name: string;
  format: string;
  corpus_id: string;
  created: string;
  specsci: unknown;
  models: Record<string, { model: string }>;
}

/** The corpus's dataset card: one `default` config whose `train` split is `dataset.jsonl`. */
export function corpusCard(
  m: CardSource,
  written: { manifestSha256: string; records: readonly Record<string, unknown>[] },
  stats: CorpusStats,
  b: CorpusBuild,
): string {
  const c = b.ctx.config;
  const features = recordSchema(written.records);
  const language = isoLanguage(c.knobs.language);
  const license = c.license ?? DEFAULT_LICENSE;
  const rows = (groups: GroupCount[]) =>
    groups.map((g) => `| ${cell(g.name)} | ${n(g.documents)} | ${n(g.tokens)} |`).join("\n");
  const gateRows = Object.entries(b.gates)
    .map(([g, k]) => `| ${g} | ${n(k)} |`)
    .join("\n");
  const meta = {
    prettyName: String(m.name),
    license,
    language: language ? [language] : [],
    taskCategories: ["text-generation"],
    tags: ["synthetic", "model-spec-midtraining", "specsci"],
    configs: [
      {
        name: "default",
        default: true,
        splits: [{ split: "train", path: CORPUS_FILES.dataset, records: written.records }],
      },
    ],
    provenance: {
      format: m.format,
      corpus_id: m.corpus_id,
      spec: { name: b.ctx.specName, hash: b.ctx.specHash },
      generator_models: [...new Set(Object.values(m.models).map((s) => s.model))].sort(),
      seed: c.seed,
      version: m.specsci,
      created: m.created,
      manifest_sha256: written.manifestSha256,
    },
  };
  return datasetCard(
    meta,
    `# ${String(m.name)}

A synthetic Model Spec Midtraining (MSM) corpus: ${n(stats.documents)} documents, ${n(stats.tokens)} tokens (${c.tokenizer} tokenizer), that discuss the model spec **${b.ctx.specName}** (sha256 \`${b.ctx.specHash.slice(0, 16)}…\`) as the principles of ${b.ctx.subject.full}. Generated by specsci from the spec through domains, subdomains, assertions, document types and document ideas; every line of \`dataset.jsonl\` records where it came from.

## How it was made

- Generator: \`${c.model}\` (per-stage models, temperatures and budgets in \`manifest.json\`); seed ${c.seed}.
- Tree: ${b.tree.domains} domains, ${b.tree.subdomains} subdomains, ${b.tree.assertions} assertions, ${b.tree.doc_types} document types, ${b.tree.ideas} ideas; ${n(b.generated)} documents written in ${b.waves + 1} wave(s).
- Knobs: attribution ${c.knobs.attribution}, framing ${c.knobs.framing}, language ${c.knobs.language}, reasoning style ${b.ctx.style}.
${b.training_purpose ? `${trainingPurposeLine(b.training_purpose)}\n` : ""}- Quality gates (documents removed):

| gate | documents |
| --- | --- |
${gateRows}

- Deduplication: ${n(b.dedup.exact)} exact and ${n(b.dedup.near)} near duplicates removed${c.dedup.near === false ? "" : ` (MinHash-LSH, Jaccard ≥ ${c.dedup.near.threshold})`}.
- Truncation: ${(b.truncation.rate * 100).toFixed(1)}% of documents hit the output budget at least once; ${n(b.truncation.regenerated)} regenerated.
- Budget: ${b.budget.target_tokens === null ? "none" : `target ${n(b.budget.target_tokens)} tokens, ${n(b.budget.trimmed_documents)} documents trimmed (stratified by domain and type)${b.budget.reached ? "" : "; **the target was not reached**"}`}.
- Contamination: ${b.contamination ? `${n(b.contamination.documents)} documents share a ${b.contamination.ngram}-word sequence with ${b.contamination.source}${b.contamination.enforced ? " (dropped)" : " (kept; see manifest)"}` : "not checked"}.

## Composition

| domain | documents | tokens |
| --- | --- | --- |
${rows(stats.byDomain)}

| document type | documents | tokens |
| --- | --- | --- |
${rows(stats.byDocType)}

## Fields

${fieldList(features)}.

${usageSections(meta.configs, license)}
## Training

\`exports/text.jsonl\` holds \`{"text": …}\` lines: the format of axolotl's completion datasets (\`exports/axolotl.yaml\`), TRL's text datasets, and Together's generic text fine-tuning format.

## Caveats

The documents are model-written fiction about the spec. They may still contain errors of fact about the world; the optional judge scores and the gates above are the only filters applied. There is no held-out split: every document is in \`train\`. Token counts are the ${c.tokenizer} tokenizer's, not necessarily the trained model's.
`,
  );
}
