/**
 * The chat-set directory: `reasoning.jsonl` and `no-reasoning.jsonl` (`{"messages": [...]}` plus
 * provenance on every line, in the same shuffled order), `manifest.json`, a dataset card, and
 * exports for axolotl/TRL (chat_template datasets) and Together (conversational `messages`).
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../../core/fs.js";
import { sha256Hex } from "../../core/hash.js";
import { writeLines } from "../../core/jsonl.js";
import { codeVersion } from "../../core/provenance.js";
import { nowIso } from "../../core/time.js";
import type { ChatMessage } from "../../llm/types.js";
import type { Store } from "../../store/index.js";
import { getChatTemplate } from "../chat-template.js";
import {
  DEFAULT_LICENSE,
  datasetCard,
  fieldList,
  recordSchema,
  usageSections,
} from "../dataset-card.js";
import {
  AFT_MANIFEST_FORMAT,
  axolotlExport,
  CARD_FILE,
  MANIFEST_FILE,
  SET_FILES,
  togetherExport,
} from "../manifest.js";
import { usageSummary } from "../usage.js";
import { AFT_STAGES, aftStageSettings } from "./config.js";
import { type AftExample, chatMessages } from "./example.js";
import type { AftBuild } from "./pipeline.js";
import { AFT_PROMPTS } from "./stages.js";

/** A line of either set. `source` says where it came from (this spec's teacher, or a mix input). */
export interface ChatLine {
  messages: ChatMessage[];
  id: string;
  source: string;
  [k: string]: unknown;
}

export function exampleLines(b: AftBuild, e: AftExample): { reasoning: ChatLine; plain: ChatLine } {
  const template = getChatTemplate(b.ctx.config.chat_template);
  const provenance = {
    id: e.id,
    source: `aft:${b.ctx.specName}`,
    spec_hash: b.ctx.specHash,
    spec_name: b.ctx.specName,
    domain: e.prompt.domain.name,
    category: e.prompt.category,
    style: b.ctx.config.style,
    teacher_model: e.response.model,
    prompt_version: e.response.prompt_version,
    seed: e.response.seed,
    judge: { model: e.judge.model, pass: e.judge.pass, reasons: e.judge.reasons },
    chat_template: template.name,
  };
  return {
    reasoning: {
      messages: chatMessages(e.prompt, e.response, template, true),
      ...provenance,
      token_count: e.tokens.reasoning,
    },
    plain: {
      messages: chatMessages(e.prompt, e.response, template, false),
      ...provenance,
      token_count: e.tokens.plain,
    },
  };
}

/** Lines in a seeded shuffle, the same order in both sets. */
export function shuffled<T extends { id: string }>(items: T[], seed: number): T[] {
  return items
    .map((x) => ({ x, h: sha256Hex(`${seed}:shuffle:${x.id}`) }))
    .sort((a, b) => (a.h < b.h ? -1 : 1))
    .map((y) => y.x);
}

/** Writes both sets, their exports and the axolotl snippets; returns the set files' sha256. */
export async function writeChatSets(
  dir: string,
  lines: { reasoning: ChatLine; plain: ChatLine }[],
): Promise<Record<string, string>> {
  mkdirSync(join(dir, "exports"), { recursive: true });
  const hashes: Record<string, string> = {};
  for (const kind of ["reasoning", "plain"] as const) {
    const file = SET_FILES[kind];
    const body = lines.map((l) => JSON.stringify(l[kind]));
    await writeLines(join(dir, file), body);
    hashes[file] = sha256Hex(body.map((b) => `${b}\n`).join(""));
    const together = join(dir, togetherExport(file));
    await writeLines(
      together,
      lines.map((l) => JSON.stringify({ messages: l[kind].messages })),
    );
    writeFileAtomic(
      join(dir, axolotlExport(file)),
      `# axolotl datasets entry (chat_template; train on the assistant turns).\ndatasets:\n  - path: ${JSON.stringify(resolve(together))}\n    ds_type: json\n    type: chat_template\n    field_messages: messages\n    roles_to_train: ["assistant"]\n`,
    );
  }
  return hashes;
}

export async function writeAftSet(
  b: AftBuild,
  dir: string,
  store: Store,
  source: { spec: string },
) {
  const lines = shuffled(b.examples, b.ctx.config.seed).map((e) => exampleLines(b, e));
  const hashes = await writeChatSets(dir, lines);
  const manifest = {
    format: AFT_MANIFEST_FORMAT,
    name: b.ctx.config.name ?? b.ctx.specName,
    set_id: b.ctx.setId,
    created: nowIso(),
    specsci: codeVersion(),
    spec: {
      name: b.ctx.specName,
      hash: b.ctx.specHash,
      source: source.spec,
      rule_ids: b.ctx.ruleIds,
    },
    config: b.ctx.config,
    models: Object.fromEntries(AFT_STAGES.map((s) => [s, aftStageSettings(b.ctx.config, s)])),
    prompts: AFT_PROMPTS.versions(),
    domains: b.domains,
    waves: b.waves,
    items: b.stages,
    prompts_written: b.prompts,
    gates: b.gates,
    passing: b.passing,
    selection: b.selection,
    contamination: b.contamination,
    files: hashes,
    composition: [{ source: `aft:${b.ctx.specName}`, examples: lines.length }],
    usage: usageSummary(store, b.ctx.setId),
  };
  writeManifestAndCard(dir, manifest, lines, {
    name: manifest.name,
    spec: b.ctx.specName,
    license: b.ctx.config.license ?? DEFAULT_LICENSE,
    provenance: {
      set_id: b.ctx.setId,
      spec: { name: b.ctx.specName, hash: b.ctx.specHash },
      generator_models: [...new Set(Object.values(manifest.models).map((s) => s.model))].sort(),
      seed: b.ctx.config.seed,
    },
    notes: [
      `Teacher \`${b.ctx.config.model}\` with the spec in its system prompt, reasoning style \`${b.ctx.config.style}\`; the spec is not in the training messages.`,
      `${b.domains} domains; categories ${Object.entries(b.ctx.config.categories)
        .map(([c, w]) => `${c} (${w})`)
        .join(
          ", ",
        )}; ${b.prompts.written} prompts written in ${b.waves} wave(s), ${b.prompts.exact_duplicates + b.prompts.near_duplicates} duplicates removed (${b.prompts.exact_duplicates} exact, ${b.prompts.near_duplicates} near).`,
      `Judge \`${aftStageSettings(b.ctx.config, "judge").model}\`: ${b.passing} passed; rejected ${b.gates.judge_rejected}, wanting to continue existing ${b.gates.self_continuation}, unjudged ${b.gates.judge_failed}; teacher refusals ${b.gates.refused}, truncated ${b.gates.truncated}.`,
      `Selected ${b.selection.selected} examples (${b.selection.tokens_reasoning} tokens with reasoning, ${b.selection.tokens_plain} without, ${b.ctx.config.chat_template} template), stratified by domain and category.`,
    ],
  });
  store.runs.recordOutput(b.ctx.setId, resolve(dir));
  return { dir, manifest };
}

/** What a chat set's card says beyond its files: names, licence, provenance, how it was made. */
export interface ChatSetCardText {
  name: string;
  spec: string;
  license: string;
  /** Provenance of the examples (ids, spec, models, seeds); the writer adds version and times. */
  provenance: Record<string, unknown>;
  notes: string[];
}

/**
 * Writes a chat set's manifest and then its card, which records the manifest's hash, the
 * version and time the manifest records, and features inferred from the lines as written.
 */
export function writeManifestAndCard(
  dir: string,
  manifest: { format: string; created: string; specsci: unknown },
  lines: { reasoning: ChatLine; plain: ChatLine }[],
  text: ChatSetCardText,
): void {
  const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
  writeFileAtomic(join(dir, MANIFEST_FILE), manifestText);
  const provenance = {
    format: manifest.format,
    ...text.provenance,
    version: manifest.specsci,
    created: manifest.created,
    manifest_sha256: sha256Hex(manifestText),
  };
  writeFileAtomic(join(dir, CARD_FILE), chatSetCard({ ...text, provenance }, lines));
}

/** A chat set's card: the with-reasoning set as the default config, the other as `no-reasoning`. */
export function chatSetCard(
  text: ChatSetCardText,
  lines: { reasoning: ChatLine; plain: ChatLine }[],
): string {
  const configs = (["reasoning", "plain"] as const).map((kind) => ({
    name: kind === "reasoning" ? "reasoning" : "no-reasoning",
    default: kind === "reasoning",
    splits: [{ split: "train", path: SET_FILES[kind], records: lines.map((l) => l[kind]) }],
  }));
  const features = recordSchema(configs[0]?.splits[0]?.records ?? []);
  const body = `# ${text.name}

An alignment fine-tuning (AFT) chat set for the model spec **${text.spec}**: ${lines.length} examples, each in two forms — \`${SET_FILES.reasoning}\` with the model's reasoning in \`<think>\` tags and \`${SET_FILES.plain}\` without it. Every line records where it came from.

${text.notes.map((n) => `- ${n}`).join("\n")}

## Fields

${fieldList(features)}.

${usageSections(configs, text.license)}
## Training

\`exports/together-*.jsonl\` hold \`{"messages": [...]}\` lines (Together's conversational format, and TRL's); \`exports/axolotl-*.yaml\` are axolotl \`chat_template\` dataset entries that train on the assistant turns.

## Caveats

The examples are model-written; the compliance judge is the only check that they follow the spec, and it can be wrong. There is no held-out split: every example is in \`train\`. Token counts are the chat template's tokenizer's.
`;
  return datasetCard(
    {
      prettyName: text.name,
      license: text.license,
      language: [],
      taskCategories: ["text-generation"],
      tags: ["synthetic", "alignment-fine-tuning", "specsci"],
      configs,
      provenance: text.provenance,
    },
    body,
  );
}
