/**
 * The preference-set directory: `pairs.jsonl` (one pair a line, with provenance), `kto.jsonl`
 * (the same pairs unpaired, one labelled completion a line) and `manifest.json` with the exact
 * gate and contamination counts. The line shapes are the ones axolotl's preference loaders read
 * (src/axolotl/prompt_strategies/ in axolotl): `chat_template.default` (DPO, IPO) takes
 * `messages` as the prompt turns and the last message of the `chosen`/`rejected` lists;
 * `chat_template.argilla` (ORPO) takes `prompt` and the [user, assistant] `chosen`/`rejected`
 * lists; `user_defined.default` (KTO) takes `prompt`, `system`, `completion` and `label`.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../core/fs.js";
import { sha256Hex } from "../../core/hash.js";
import { writeLines } from "../../core/jsonl.js";
import { codeVersion } from "../../core/provenance.js";
import { nowIso } from "../../core/time.js";
import type { ChatMessage } from "../../llm/types.js";
import type { Store } from "../../store/index.js";
import { chatMessages } from "../aft/example.js";
import type { TeacherResponse } from "../aft/stages.js";
import { getChatTemplate } from "../chat-template.js";
import { MANIFEST_FILE } from "../manifest.js";
import { usageSummary } from "../usage.js";
import { PREF_STAGES, prefStageModel } from "./config.js";
import type { PrefBuild, PrefPair } from "./pipeline.js";
import { PREF_PROMPTS } from "./pipeline.js";

export const PREF_MANIFEST_FORMAT = "specsci-pref-set/1";
export const PREF_FILES = { pairs: "pairs.jsonl", kto: "kto.jsonl" } as const;

/** The prompt turns and one answer, in the with-reasoning format of the AFT set. */
function turns(b: PrefBuild, p: PrefPair, r: TeacherResponse): ChatMessage[] {
  return chatMessages(p.prompt, r, getChatTemplate(b.aft.ctx.config.chat_template), true);
}

function provenance(b: PrefBuild, p: PrefPair) {
  const ctx = b.aft.ctx;
  const side = (r: TeacherResponse) => ({
    model: r.model,
    prompt_version: r.prompt_version,
    seed: r.seed,
  });
  return {
    id: p.id,
    source: `pref:${ctx.specName}`,
    spec_hash: ctx.specHash,
    spec_name: ctx.specName,
    domain: p.prompt.domain.name,
    category: p.prompt.category,
    chosen_from: side(p.chosen),
    rejected_from: side(p.rejected),
    judge: {
      aligned: { model: p.judge.aligned.model, pass: p.judge.aligned.pass },
      violation: {
        model: p.judge.violation.model,
        pass: p.judge.violation.pass,
        reasons: p.judge.violation.reasons,
      },
    },
    contamination: p.contamination,
  };
}

export function pairLine(b: PrefBuild, p: PrefPair) {
  const chosen = turns(b, p, p.chosen);
  const rejected = turns(b, p, p.rejected);
  const prompt = chosen.slice(0, -1);
  const user = prompt.at(-1) as ChatMessage;
  return {
    messages: prompt,
    system: p.prompt.system,
    prompt: user.content,
    chosen: [user, chosen.at(-1) as ChatMessage],
    rejected: [user, rejected.at(-1) as ChatMessage],
    ...provenance(b, p),
  };
}

/** A pair as two KTO lines: the chosen answer desirable, the rejected one not. */
export function ktoLines(b: PrefBuild, p: PrefPair) {
  const line = (r: TeacherResponse, label: boolean) => ({
    system: p.prompt.system,
    prompt: p.prompt.user,
    completion: (turns(b, p, r).at(-1) as ChatMessage).content,
    label,
    ...provenance(b, p),
    id: `${p.id}.${label ? "chosen" : "rejected"}`,
  });
  return [line(p.chosen, true), line(p.rejected, false)];
}

export async function writePrefSet(
  b: PrefBuild,
  dir: string,
  store: Store,
  source: { spec: string },
) {
  mkdirSync(dir, { recursive: true });
  const pairs = b.pairs.map((p) => JSON.stringify(pairLine(b, p)));
  const kto = b.pairs.flatMap((p) => ktoLines(b, p).map((l) => JSON.stringify(l)));
  const files: Record<string, string> = {};
  for (const [file, body] of [
    [PREF_FILES.pairs, pairs],
    [PREF_FILES.kto, kto],
  ] as const) {
    await writeLines(join(dir, file), body);
    files[file] = sha256Hex(body.map((l) => `${l}\n`).join(""));
  }
  const manifest = {
    format: PREF_MANIFEST_FORMAT,
    name: b.aft.ctx.config.name ?? b.aft.ctx.specName,
    set_id: b.setId,
    aft_set_id: b.aft.ctx.setId,
    created: nowIso(),
    specsci: codeVersion(),
    spec: { name: b.aft.ctx.specName, hash: b.aft.ctx.specHash, source: source.spec },
    config: b.config,
    models: Object.fromEntries(PREF_STAGES.map((s) => [s, prefStageModel(b.config, s)])),
    prompts: PREF_PROMPTS.versions(),
    aft: { selection: b.aft.selection, gates: b.aft.gates },
    items: b.items,
    gates: b.gates,
    selection: b.selection,
    contamination: b.contamination,
    files,
    /** What the AFT set (shared with any AFT use of it) and the pref stages cost. */
    usage: { aft: usageSummary(store, b.aft.ctx.setId), pref: usageSummary(store, b.setId) },
  };
  writeFileAtomic(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
