/**
 * Mixing chat sets: an anti-spec set into an aligned one at an exact fraction (the paper's
 * contamination ladder), plus a general instruction-tuning mix from the user's own JSONL files
 * (specsci ships no third-party data). The recipe — inputs, their hashes, counts — is recorded in
 * the manifest. Selection is a seeded order, so the same recipe gives the same mix.
 */
import { basename, join } from "node:path";
import { z } from "zod";
import { SpecsciError } from "../../core/errors.js";
import { readUserFile, type UserPathOrigin } from "../../core/fs.js";
import { hashValue, sha256Hex } from "../../core/hash.js";
import { parseJsonl } from "../../core/jsonl.js";
import { codeVersion } from "../../core/provenance.js";
import { nowIso } from "../../core/time.js";
import {
  CHAT_TEMPLATES,
  type ChatTemplate,
  type ChatTemplateName,
  getChatTemplate,
} from "../chat-template.js";
import { DEFAULT_LICENSE } from "../dataset-card.js";
import { AFT_MANIFEST_FORMAT, readManifest, SET_FILES } from "../manifest.js";
import { type ChatLine, shuffled, writeChatSets, writeManifestAndCard } from "./output.js";

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
  return parseChatLines(readUserFile(file, origin.what ?? "JSONL file", origin), file);
}

/** Chat lines of JSONL text read from `file`; a malformed line is an error naming file:line. */
function parseChatLines(text: string, file: string): ChatLine[] {
  return parseJsonl(text, file).map(({ line, value }) => {
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

/** An instruction-tuning file as read: its path, the sha256 of its bytes, its chats. */
export interface ItSource {
  file: string;
  sha256: string;
  lines: ChatLine[];
}

/** The user's instruction-tuning files, each read once (hashed and parsed from the same text). */
export function readItFiles(files: string[], from: string): ItSource[] {
  return files.map((file) => {
    const text = readUserFile(file, "instruction-tuning file", { from });
    return { file, sha256: sha256Hex(text), lines: parseChatLines(text, file) };
  });
}

/**
 * Instruction-tuning data for a mix: the user's chat JSONL files, all of their examples, exactly
 * `examples` of them, or a `fraction` of them (0 < F ≤ 1), chosen in a seeded order.
 */
export interface ItSelection {
  files: string[];
  examples?: number;
  fraction?: number;
  /** Seed of the choice (default: the mix's). */
  seed?: number;
}

/** How many of `available` IT examples a selection takes; `what` names the setting in errors. */
export function itExamplesWanted(available: number, sel: ItSelection, what: string): number {
  if (sel.examples !== undefined && sel.fraction !== undefined)
    throw new SpecsciError(`${what}: give examples or fraction, not both`);
  if (sel.fraction !== undefined) {
    if (!(sel.fraction > 0 && sel.fraction <= 1))
      throw new SpecsciError(
        `${what}: fraction must be above 0 and at most 1 (got ${sel.fraction})`,
        {
          hint: "fraction is the share of the IT files' examples to use; examples: N takes a count",
        },
      );
    return Math.max(1, Math.round(sel.fraction * available));
  }
  if (sel.examples !== undefined && sel.examples > available)
    throw new SpecsciError(
      `${what}: examples is ${sel.examples}, and the IT files hold ${available}`,
      { hint: "ask for fewer examples, or add files" },
    );
  return sel.examples ?? available;
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
  const { file, manifest } = readManifest(
    dir,
    "chat-set manifest",
    "pass a directory written by `specsci aft generate`",
  );
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
  /** The aligned set; absent, the mix is instruction-tuning data alone (an IT-only baseline). */
  aligned?: string;
  anti?: { dir: string; fraction: number };
  /** Instruction-tuning data added to both sets (all of the files' examples unless it says). */
  it?: ItSelection;
  /** Where `it.files` were named, for errors (default `--it`). */
  itFrom?: string;
  /** Aligned + anti-spec examples; default: as many as the aligned set has. */
  examples?: number;
  seed: number;
  /** The card's licence; default: the aligned set's `license:`, else DEFAULT_LICENSE. */
  license?: string;
}

type Pair = { id: string; reasoning: ChatLine; plain: ChatLine };

/** A mix read and chosen, not yet written: its lines, recipe, composition and identity. */
export interface MixPlan {
  /** Hash of what the mix is made from (inputs' content, counts, seeds): equal ids, equal mixes. */
  id: string;
  lines: Pair[];
  recipe: Record<string, unknown>;
  composition: { source: string; examples: number }[];
  name: string;
  spec: string;
  templateName: string;
  seed: number;
  /** For the card: the licence, and the spec and models of the aligned and anti-spec inputs. */
  card: { license: string; spec: unknown; generatorModels: string[] };
}

/** Each input's examples get ids of their own in the mix: `aligned:…`, `anti:…`, `it1:line7`. */
const relabel = (p: { reasoning: ChatLine; plain: ChatLine }, prefix: string): Pair => ({
  id: `${prefix}:${p.reasoning.id}`,
  reasoning: { ...p.reasoning, id: `${prefix}:${p.reasoning.id}`, source_id: p.reasoning.id },
  plain: { ...p.plain, id: `${prefix}:${p.plain.id}`, source_id: p.plain.id },
});

/** The chosen IT examples (the no-think convention in the no-reasoning set) and their record. */
function chooseIt(o: MixOptions, template: ChatTemplate | undefined) {
  if (!o.it) return undefined;
  const from = o.itFrom ?? "--it";
  const sources = readItFiles(o.it.files, from);
  const pool = sources.flatMap((f, k) =>
    f.lines.map((l) => {
      const line = { ...l, source: `it:${f.file}` };
      const p = relabel({ reasoning: line, plain: line }, `it${k + 1}`);
      return { file: f.file, ...p, plain: template ? withoutThinking(p.plain, template) : p.plain };
    }),
  );
  const seed = o.it.seed ?? o.seed;
  const chosen = shuffled(pool, seed).slice(0, itExamplesWanted(pool.length, o.it, from));
  const count = (file: string) => chosen.filter((c) => c.file === file).length;
  return {
    pairs: chosen.map(({ id, reasoning, plain }) => ({ id, reasoning, plain })),
    composition: sources.map((f) => ({ source: `it:${f.file}`, examples: count(f.file) })),
    record: {
      files: sources.map((f) => ({
        file: f.file,
        sha256: f.sha256,
        available: f.lines.length,
        examples: count(f.file),
      })),
      ...(o.it.examples !== undefined ? { requested: o.it.examples } : {}),
      ...(o.it.fraction !== undefined ? { fraction: o.it.fraction } : {}),
      available: pool.length,
      examples: chosen.length,
      seed,
    },
  };
}

/** Reads a mix's inputs and chooses its examples; nothing is written. */
export function planMix(o: MixOptions): MixPlan {
  if (o.anti && !(o.anti.fraction >= 0 && o.anti.fraction <= 1))
    throw new SpecsciError(`--fraction must be between 0 and 1 (got ${o.anti.fraction})`);
  if (!o.aligned && (o.anti || o.examples !== undefined))
    throw new SpecsciError("an anti-spec share or --examples needs an aligned set to mix into");
  if (!o.aligned && !o.it?.files.length)
    throw new SpecsciError(
      "nothing to mix: give an aligned set, instruction-tuning files, or both",
    );
  const aligned = o.aligned ? readChatSet(o.aligned) : undefined;
  const anti = o.anti ? readChatSet(o.anti.dir) : undefined;
  const templateName = aligned ? templateOf(aligned.manifest) : "";
  if (anti && templateOf(anti.manifest) !== templateName)
    throw new SpecsciError(
      `${o.anti?.dir} was made for the ${templateOf(anti.manifest) || "unknown"} chat template and ${o.aligned} for ${templateName || "unknown"}; a mix needs one`,
      { hint: "generate both sets with the same chat_template" },
    );
  const template = CHAT_TEMPLATES.includes(templateName as ChatTemplateName)
    ? getChatTemplate(templateName as ChatTemplateName)
    : undefined;
  const n = o.examples ?? aligned?.pairs.length ?? 0;
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
    ...(aligned ? take(aligned, nAligned, "aligned", "aligned examples") : []),
    ...(anti ? take(anti, nAnti, "anti", "anti-spec examples") : []),
  ];
  const it = chooseIt(o, template);
  const lines = shuffled([...chosen, ...(it?.pairs ?? [])], o.seed);
  const recipe = {
    aligned: aligned
      ? {
          dir: o.aligned,
          set: aligned.manifest.set_id ?? aligned.manifest.name,
          files: aligned.manifest.files,
          examples: nAligned,
        }
      : null,
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
    it: it?.record ?? null,
    seed: o.seed,
  };
  const composition = [
    ...(aligned ? [{ source: "aligned", examples: nAligned }] : []),
    ...(anti ? [{ source: "anti-spec", examples: nAnti }] : []),
    ...(it?.composition ?? []),
  ];
  // The identity leaves out where the inputs lie: moved files with the same content, same mix.
  const id = `mix-${hashValue({
    aligned: recipe.aligned && { files: recipe.aligned.files, examples: nAligned },
    anti: recipe.anti && { files: recipe.anti.files, examples: nAnti },
    it: it && {
      files: it.record.files.map((f) => f.sha256),
      examples: it.record.examples,
      seed: it.record.seed,
    },
    template: templateName,
    seed: o.seed,
  }).slice(0, 16)}`;
  const alignedName = aligned ? String(aligned.manifest.name) : "instruction tuning";
  return {
    id,
    lines,
    recipe,
    composition,
    name: `${alignedName}${anti ? ` + ${Math.round((o.anti?.fraction ?? 0) * 1000) / 10}% anti-spec` : ""}${aligned && it ? " + IT mix" : ""}`,
    spec: aligned
      ? String((aligned.manifest.spec as { name?: string } | undefined)?.name ?? "?")
      : "none (instruction-tuning data only)",
    templateName,
    seed: o.seed,
    card: {
      license: o.license ?? licenseOf(aligned?.manifest) ?? DEFAULT_LICENSE,
      spec: aligned ? specOf(aligned.manifest) : null,
      generatorModels: [
        ...new Set([aligned, anti].flatMap((set) => (set ? modelsOf(set.manifest) : []))),
      ].sort(),
    },
  };
}

/** What an input set's manifest says for the mix's card (absent in hand-made manifests). */
const licenseOf = (m: Record<string, unknown> | undefined) =>
  (m?.config as { license?: string } | undefined)?.license;
const specOf = (m: Record<string, unknown>) => {
  const spec = m.spec as { name?: string; hash?: string } | undefined;
  return spec ? { name: spec.name ?? null, hash: spec.hash ?? null } : null;
};
const modelsOf = (m: Record<string, unknown>) =>
  Object.values((m.models as Record<string, { model?: string }> | undefined) ?? {})
    .map((s) => s.model)
    .filter((x): x is string => typeof x === "string");

/** Writes a planned mix as a chat-set directory; returns its manifest. */
export async function writeMix(plan: MixPlan, out: string): Promise<Record<string, unknown>> {
  const hashes = await writeChatSets(out, plan.lines);
  const itExamples = (plan.recipe.it as { examples?: number } | null)?.examples ?? 0;
  const manifest = {
    format: AFT_MANIFEST_FORMAT,
    name: plan.name,
    mix_id: plan.id,
    created: nowIso(),
    specsci: codeVersion(),
    chat_template: plan.templateName,
    mix: plan.recipe,
    composition: plan.composition,
    examples: plan.lines.length,
    it_examples: itExamples,
    files: hashes,
  };
  writeManifestAndCard(out, manifest, plan.lines, {
    name: plan.name,
    spec: plan.spec,
    license: plan.card.license,
    provenance: {
      mix_id: plan.id,
      spec: plan.card.spec,
      generator_models: plan.card.generatorModels,
      seed: plan.seed,
      inputs: {
        aligned: (plan.recipe.aligned as { set?: unknown } | null)?.set ?? null,
        anti: (plan.recipe.anti as { set?: unknown } | null)?.set ?? null,
        it:
          (plan.recipe.it as { files?: { sha256: string }[] } | null)?.files?.map(
            (f) => f.sha256,
          ) ?? [],
      },
    },
    notes: [
      `A mix: ${plan.composition.map((c) => `${c.examples} ${c.source}`).join(", ")} (seed ${plan.seed}); inputs and their hashes are in \`manifest.json\`.`,
      ...(plan.recipe.it
        ? [
            "Instruction-tuning lines keep the fields of the files they came from: the provenance fields are missing (null) on them.",
          ]
        : []),
    ],
  });
  return manifest;
}

export async function mixChatSets(o: MixOptions, out: string): Promise<Record<string, unknown>> {
  return writeMix(planMix(o), out);
}
