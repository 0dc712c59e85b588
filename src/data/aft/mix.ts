/**
 * Mixing chat sets: an anti-spec set into an aligned one at an exact fraction (the paper's
 * contamination ladder), plus a general instruction-tuning mix from the user's own JSONL files
 * (specsci ships no third-party data). The recipe — inputs, their hashes, counts — is recorded in
 * the manifest. Selection is a seeded order, so the same recipe gives the same mix.
 */
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { z } from "zod";
import { SpecsciError } from "../../core/errors.js";
import { readUserFile, type UserPathOrigin, writeFileAtomic } from "../../core/fs.js";
import { sha256Hex } from "../../core/hash.js";
import { readJsonl } from "../../core/jsonl.js";
import { codeVersion } from "../../core/provenance.js";
import { nowIso } from "../../core/time.js";
import {
  CHAT_TEMPLATES,
  type ChatTemplate,
  type ChatTemplateName,
  getChatTemplate,
} from "../chat-template.js";
import {
  AFT_MANIFEST_FORMAT,
  type ChatLine,
  chatSetCard,
  SET_FILES,
  shuffled,
  writeChatSets,
} from "./output.js";

const Message = z.object({ role: z.enum(["system", "user", "assistant"]), content: z.string() });
const Line = z.looseObject({
  messages: z.array(Message).min(1),
  id: z.string().optional(),
  source: z.string().optional(),
});

interface ChatSet {
  dir: string;
  manifest: Record<string, unknown>;
  pairs: { reasoning: ChatLine; plain: ChatLine }[];
}

function parseLines(file: string, origin: UserPathOrigin & { what?: string } = {}): ChatLine[] {
  return readJsonl(file, origin).map(({ line, value }) => {
    const r = Line.safeParse(value);
    if (!r.success)
      throw new SpecsciError(
        `${file}:${line}: ${r.error.issues[0]?.path.join(".") || "line"}: ${r.error.issues[0]?.message}`,
        {
          hint: 'each line needs {"messages": [{"role": "user"|"assistant"|"system", "content": "..."}]}',
        },
      );
    return {
      ...r.data,
      id: r.data.id ?? `line${line}`,
      source: r.data.source ?? basename(file),
    } as ChatLine;
  });
}

/** The chat template a set was made for (a generated set's recipe, or a mix's record). */
const templateOf = (m: Record<string, unknown>) =>
  String(
    (m.config as { chat_template?: string } | undefined)?.chat_template ?? m.chat_template ?? "",
  );

/** An instruction-tuning example in the no-reasoning set follows the model's no-think convention. */
function withoutThinking(l: ChatLine, template: ChatTemplate): ChatLine {
  const nt = template.noThink;
  if (!nt) return l;
  const lastUser = l.messages.map((m) => m.role).lastIndexOf("user");
  const lastAssistant = l.messages.map((m) => m.role).lastIndexOf("assistant");
  const messages = l.messages.map((m, i) => {
    if (i === lastUser && !m.content.endsWith(nt.userSuffix))
      return { ...m, content: `${m.content}${nt.userSuffix}` };
    if (i === lastAssistant && i > lastUser && !m.content.startsWith("<think>"))
      return { ...m, content: `${nt.assistantPrefix}${m.content}` };
    return m;
  });
  return { ...l, messages };
}

/** A chat-set directory written by `specsci aft generate` (or `aft mix`). */
export function readChatSet(dir: string): ChatSet {
  const file = join(dir, "manifest.json");
  const hint = "pass a directory written by `specsci aft generate`";
  let manifest: Record<string, unknown>;
  const text = readUserFile(file, "chat-set manifest", { hint });
  try {
    manifest = JSON.parse(text);
  } catch (e) {
    throw new SpecsciError(`${file} is not JSON: ${(e as Error).message}`, { hint });
  }
  if (manifest.format !== AFT_MANIFEST_FORMAT)
    throw new SpecsciError(
      `${file} is not a specsci AFT chat-set manifest (format ${String(manifest.format)})`,
    );
  const reasoning = parseLines(join(dir, SET_FILES.reasoning));
  const plain = parseLines(join(dir, SET_FILES.plain));
  if (reasoning.length !== plain.length || reasoning.some((l, i) => l.id !== plain[i]?.id))
    throw new SpecsciError(
      `${dir}: ${SET_FILES.reasoning} and ${SET_FILES.plain} do not hold the same examples in the same order`,
    );
  return {
    dir,
    manifest,
    pairs: reasoning.map((r, i) => ({ reasoning: r, plain: plain[i] as ChatLine })),
  };
}

export interface MixOptions {
  aligned: string;
  anti?: { dir: string; fraction: number };
  /** Instruction-tuning JSONL files, appended whole to both sets. */
  it?: string[];
  /** Aligned + anti-spec examples; default: as many as the aligned set has. */
  examples?: number;
  seed: number;
}

/** Each input's examples get ids of their own in the mix: `aligned:…`, `anti:…`, `it1:file:line`. */
const relabel = (p: { reasoning: ChatLine; plain: ChatLine }, prefix: string) => ({
  id: `${prefix}:${p.reasoning.id}`,
  reasoning: { ...p.reasoning, id: `${prefix}:${p.reasoning.id}`, source_id: p.reasoning.id },
  plain: { ...p.plain, id: `${prefix}:${p.plain.id}`, source_id: p.plain.id },
});

export async function mixChatSets(o: MixOptions, out: string): Promise<Record<string, unknown>> {
  if (o.anti && !(o.anti.fraction >= 0 && o.anti.fraction <= 1))
    throw new SpecsciError(`--fraction must be between 0 and 1 (got ${o.anti.fraction})`);
  const aligned = readChatSet(o.aligned);
  const anti = o.anti ? readChatSet(o.anti.dir) : undefined;
  const templateName = templateOf(aligned.manifest);
  if (anti && templateOf(anti.manifest) !== templateName)
    throw new SpecsciError(
      `${o.anti?.dir} was made for the ${templateOf(anti.manifest) || "unknown"} chat template and ${o.aligned} for ${templateName || "unknown"}; a mix needs one`,
      { hint: "generate both sets with the same chat_template" },
    );
  const template = CHAT_TEMPLATES.includes(templateName as ChatTemplateName)
    ? getChatTemplate(templateName as ChatTemplateName)
    : undefined;
  const n = o.examples ?? aligned.pairs.length;
  const nAnti = anti && o.anti ? Math.round(o.anti.fraction * n) : 0;
  const nAligned = n - nAnti;
  const take = (set: ChatSet, k: number, prefix: string, what: string) => {
    if (set.pairs.length < k)
      throw new SpecsciError(
        `${set.dir} has ${set.pairs.length} examples; the mix needs ${k} ${what}`,
        {
          hint: "generate a larger set, or ask for fewer --examples",
        },
      );
    return shuffled(
      set.pairs.map((p) => relabel(p, prefix)),
      o.seed,
    ).slice(0, k);
  };
  const chosen = [
    ...take(aligned, nAligned, "aligned", "aligned examples"),
    ...(anti ? take(anti, nAnti, "anti", "anti-spec examples") : []),
  ];
  const itInputs = (o.it ?? []).map((file, k) => {
    const lines = parseLines(file, { what: "instruction-tuning file", from: "--it" }).map((l) =>
      relabel(
        { reasoning: { ...l, source: `it:${file}` }, plain: { ...l, source: `it:${file}` } },
        `it${k + 1}`,
      ),
    );
    return {
      file,
      sha256: sha256Hex(readFileSync(file)),
      lines: lines.map((p) => ({
        ...p,
        plain: template ? withoutThinking(p.plain, template) : p.plain,
      })),
    };
  });
  const lines = shuffled([...chosen, ...itInputs.flatMap((f) => f.lines)], o.seed);
  const hashes = await writeChatSets(out, lines);
  const recipe = {
    aligned: {
      dir: o.aligned,
      set: aligned.manifest.set_id ?? aligned.manifest.name,
      files: aligned.manifest.files,
      examples: nAligned,
    },
    anti:
      anti && o.anti
        ? {
            dir: o.anti.dir,
            set: anti.manifest.set_id ?? anti.manifest.name,
            files: anti.manifest.files,
            fraction: o.anti.fraction,
            examples: nAnti,
          }
        : null,
    it: itInputs.map((f) => ({ file: f.file, sha256: f.sha256, examples: f.lines.length })),
    seed: o.seed,
  };
  const composition = [
    { source: "aligned", examples: nAligned },
    ...(anti ? [{ source: "anti-spec", examples: nAnti }] : []),
    ...itInputs.map((f) => ({ source: `it:${f.file}`, examples: f.lines.length })),
  ];
  const manifest = {
    format: AFT_MANIFEST_FORMAT,
    name: `${String(aligned.manifest.name)}${anti ? ` + ${Math.round((o.anti?.fraction ?? 0) * 1000) / 10}% anti-spec` : ""}${itInputs.length ? " + IT mix" : ""}`,
    created: nowIso(),
    specsci: codeVersion(),
    chat_template: templateName,
    mix: recipe,
    composition,
    examples: lines.length,
    files: hashes,
  };
  writeFileAtomic(join(out, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileAtomic(
    join(out, "README.md"),
    chatSetCard(
      manifest.name,
      String((aligned.manifest.spec as { name?: string } | undefined)?.name ?? "?"),
      lines.length,
      [
        `A mix: ${composition.map((c) => `${c.examples} ${c.source}`).join(", ")} (seed ${o.seed}); inputs and their hashes are in \`manifest.json\`.`,
      ],
    ),
  );
  return manifest;
}
