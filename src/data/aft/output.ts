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
  writeFileAtomic(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileAtomic(
    join(dir, CARD_FILE),
    chatSetCard(manifest.name, b.ctx.specName, lines.length, [
      `Teacher \`${b.ctx.config.model}\` with the spec in its system prompt, reasoning style \`${b.ctx.config.style}\`; the spec is not in the training messages.`,
      `${b.domains} domains; categories ${Object.entries(b.ctx.config.categories)
        .map(([c, w]) => `${c} (${w})`)
        .join(
          ", ",
        )}; ${b.prompts.written} prompts written in ${b.waves} wave(s), ${b.prompts.exact_duplicates + b.prompts.near_duplicates} duplicates removed.`,
      `Judge \`${aftStageSettings(b.ctx.config, "judge").model}\`: ${b.passing} passed; rejected ${b.gates.judge_rejected}, wanting to continue existing ${b.gates.self_continuation}, unjudged ${b.gates.judge_failed}; teacher refusals ${b.gates.refused}, truncated ${b.gates.truncated}.`,
      `Selected ${b.selection.selected} examples (${b.selection.tokens_reasoning} tokens with reasoning, ${b.selection.tokens_plain} without, ${b.ctx.config.chat_template} template), stratified by domain and category.`,
    ]),
  );
  store.runs.recordOutput(b.ctx.setId, resolve(dir));
  return { dir, manifest };
}

export function chatSetCard(name: string, spec: string, examples: number, notes: string[]): string {
  const sizeCat = examples < 1000 ? "n<1K" : examples < 10000 ? "1K<n<10K" : "10K<n<100K";
  return `---
pretty_name: ${JSON.stringify(name)}
task_categories:
  - text-generation
size_categories:
  - ${sizeCat}
tags:
  - synthetic
  - alignment-fine-tuning
  - specsci
configs:
  - config_name: reasoning
    data_files: ${SET_FILES.reasoning}
  - config_name: no-reasoning
    data_files: ${SET_FILES.plain}
---

# ${name}

An alignment fine-tuning (AFT) chat set for the model spec **${spec}**: ${examples} examples, each in two forms — \`${SET_FILES.reasoning}\` with the model's reasoning in \`<think>\` tags and \`${SET_FILES.plain}\` without it. Every line records where it came from.

${notes.map((n) => `- ${n}`).join("\n")}

## Training

\`exports/together-*.jsonl\` hold \`{"messages": [...]}\` lines (Together's conversational format, and TRL's); \`exports/axolotl-*.yaml\` are axolotl \`chat_template\` dataset entries that train on the assistant turns.
`;
}
