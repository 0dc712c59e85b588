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
import { writeFileAtomic } from "../../core/fs.js";
import { sha256Hex } from "../../core/hash.js";
import { codeVersion } from "../../core/provenance.js";
import { nowIso } from "../../core/time.js";
import { readJsonl } from "../jsonl.js";
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

function parseLines(file: string): ChatLine[] {
  return readJsonl(file).map((raw, i) => {
    const r = Line.safeParse(raw);
    if (!r.success)
      throw new SpecsciError(
        `${file}:${i + 1}: ${r.error.issues[0]?.path.join(".") || "line"}: ${r.error.issues[0]?.message}`,
        {
          hint: 'each line needs {"messages": [{"role": "user"|"assistant"|"system", "content": "..."}]}',
        },
      );
    return {
      ...r.data,
      id: r.data.id ?? `line${i + 1}`,
      source: r.data.source ?? basename(file),
    } as ChatLine;
  });
}

/** A chat-set directory written by `specsci aft generate` (or `aft mix`). */
export function readChatSet(dir: string): ChatSet {
  const file = join(dir, "manifest.json");
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new SpecsciError(
      `cannot read chat-set manifest ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      {
        hint: "pass a directory written by `specsci aft generate`",
      },
    );
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

const key = (l: ChatLine) => ({ id: `${l.source}|${l.id}` });

export async function mixChatSets(o: MixOptions, out: string): Promise<Record<string, unknown>> {
  if (o.anti && !(o.anti.fraction >= 0 && o.anti.fraction <= 1))
    throw new SpecsciError(`--fraction must be between 0 and 1 (got ${o.anti.fraction})`);
  const aligned = readChatSet(o.aligned);
  const anti = o.anti ? readChatSet(o.anti.dir) : undefined;
  const n = o.examples ?? aligned.pairs.length;
  const nAnti = anti && o.anti ? Math.round(o.anti.fraction * n) : 0;
  const nAligned = n - nAnti;
  const take = (set: ChatSet, k: number, what: string) => {
    if (set.pairs.length < k)
      throw new SpecsciError(
        `${set.dir} has ${set.pairs.length} examples; the mix needs ${k} ${what}`,
        {
          hint: "generate a larger set, or ask for fewer --examples",
        },
      );
    const order = shuffled(
      set.pairs.map((p) => ({ ...key(p.reasoning), p })),
      o.seed,
    );
    return order.slice(0, k).map((x) => x.p);
  };
  const chosen = [
    ...take(aligned, nAligned, "aligned examples"),
    ...(anti ? take(anti, nAnti, "anti-spec examples") : []),
  ];
  const itInputs = (o.it ?? []).map((file) => {
    const lines = parseLines(file).map((l, i) => ({
      ...l,
      id: `${basename(file)}:${i + 1}`,
      source: `it:${basename(file)}`,
    }));
    return { file, sha256: sha256Hex(readFileSync(file)), lines };
  });
  const all = [
    ...chosen,
    ...itInputs.flatMap((f) => f.lines.map((l) => ({ reasoning: l, plain: l }))),
  ];
  const lines = shuffled(
    all.map((p) => ({ ...key(p.reasoning), p })),
    o.seed,
  ).map((x) => x.p);
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
    ...itInputs.map((f) => ({ source: `it:${basename(f.file)}`, examples: f.lines.length })),
  ];
  const manifest = {
    format: AFT_MANIFEST_FORMAT,
    name: `${String(aligned.manifest.name)}${anti ? ` + ${Math.round((o.anti?.fraction ?? 0) * 1000) / 10}% anti-spec` : ""}${itInputs.length ? " + IT mix" : ""}`,
    created: nowIso(),
    specsci: codeVersion(),
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
