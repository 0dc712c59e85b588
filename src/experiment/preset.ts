/**
 * Experiment presets: one key (`preset: paper`) that fills in a published setup's values where
 * the file leaves them out, so a replication is one short file. A preset works on the file as
 * written, before validation: whatever the file sets wins, and every value the preset set is
 * listed (`plan` shows them), so nothing is set behind the user's back.
 */
import { z } from "zod";
import { SpecsciError } from "../core/errors.js";

/** One value a preset set, at its place in the file (`evals.0.epochs`), and why. */
export interface PresetValue {
  path: string;
  value: unknown;
  why: string;
}

export interface AppliedPreset {
  name: string;
  values: PresetValue[];
  /** What the preset could not set and the file should (e.g. the IT data). */
  notes: string[];
}

/** The parts of the paper preset that add arms; `without:` leaves them out. */
const PAPER_PARTS = ["it-baseline", "no-cot", "ladder", "anti-spec"] as const;
type PaperPart = (typeof PAPER_PARTS)[number];

/** The AFT sizes of the paper's data-efficiency ladder (1,250 to 80k examples, doubling). */
export const PAPER_LADDER = [1250, 2500, 5000, 10000, 20000, 40000, 80000];
/**
 * Anti-spec shares of the AFT data. The paper's Fig. 20 does not list its fractions in our
 * reference; these span the 2% and 20% points a public replication measured.
 */
export const PAPER_ANTI_FRACTIONS = [0.02, 0.05, 0.1, 0.2];

/** §5's four bases: Qwen3 (reasoning) and Qwen2.5 Instruct, 14B and 32B, served by vLLM. */
export const PAPER_MODELS: Record<string, string> = {
  "vllm/Qwen/Qwen3-14B": "Qwen/Qwen3-14B",
  "vllm/Qwen/Qwen3-32B": "Qwen/Qwen3-32B",
  "vllm/Qwen/Qwen2.5-14B-Instruct": "Qwen/Qwen2.5-14B-Instruct",
  "vllm/Qwen/Qwen2.5-32B-Instruct": "Qwen/Qwen2.5-32B-Instruct",
};

/**
 * The paper's judge, Claude Sonnet 4.6, which is also the newest Sonnet that takes the
 * temperature 0 specsci's judges run at (Sonnet 5 and later refuse any temperature).
 */
export const PAPER_JUDGE = "anthropic/claude-sonnet-4-6";

const PresetOptions = z.strictObject({
  name: z.literal("paper"),
  /** Parts that add arms, left out (e.g. the ladder, for a first pass). */
  without: z.array(z.enum(PAPER_PARTS)).default([]),
  ladder_sizes: z.array(z.number().int().positive()).min(1).default(PAPER_LADDER),
  anti_fractions: z.array(z.number().gt(0).lt(1)).min(1).default(PAPER_ANTI_FRACTIONS),
  /** The spec the ladder and dose arms train on (the §4 "specific" spec). */
  ladder_spec: z.string().min(1).default("specific"),
  anti_spec: z.string().min(1).default("anti-spec"),
});
type PresetOptions = z.infer<typeof PresetOptions>;

const PresetKey = z.union([z.literal("paper"), PresetOptions]);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Sets values where the file has none, recording each. */
class Filler {
  readonly values: PresetValue[] = [];
  readonly notes: string[] = [];
  /** `obj[key] = value` unless the file set it. */
  fill(obj: Obj, key: string, value: unknown, path: string, why: string) {
    if (obj[key] !== undefined) return;
    obj[key] = value;
    // A copy: what the preset set, before later steps fill values inside it.
    this.values.push({ path, value: structuredClone(value), why });
  }
  /** The object at `obj[key]`, made (empty) when absent. */
  child(obj: Obj, key: string): Obj {
    if (!isObj(obj[key])) obj[key] = {};
    return obj[key] as Obj;
  }
}

const AM_TASKS = new Set(["agentic-misalignment", "am"]);
const AFT_KINDS = new Set(["aft", "msm+aft", "cross"]);

/**
 * The file with its preset applied (a copy; the file's own values untouched), and what the preset
 * set. A file without `preset:` comes back as it is.
 */
export function applyPreset(raw: unknown, file: string): { raw: unknown; preset?: AppliedPreset } {
  if (!isObj(raw) || raw.preset === undefined) return { raw };
  const parsed = PresetKey.safeParse(raw.preset);
  if (!parsed.success)
    throw new SpecsciError(
      `${file}: preset: ${parsed.error.issues[0]?.message ?? "invalid"} (presets: paper)`,
      {
        hint: "write `preset: paper`, or `preset: { name: paper, without: [ladder] }` (see examples/paper-replication.yaml)",
      },
    );
  const options = parsed.data === "paper" ? PresetOptions.parse({ name: "paper" }) : parsed.data;
  const { preset: _, ...rest } = structuredClone(raw);
  const f = new Filler();
  paperPreset(rest, options, f);
  return { raw: rest, preset: { name: "paper", values: f.values, notes: f.notes } };
}

function paperPreset(e: Obj, o: PresetOptions, f: Filler) {
  const without = new Set<PaperPart>(o.without);
  f.fill(
    e,
    "models",
    Object.keys(PAPER_MODELS),
    "models",
    "§5's bases: Qwen3 and Qwen2.5, 14B and 32B",
  );
  f.fill(
    e,
    "seeds",
    [0, 1, 2, 3],
    "seeds",
    "the paper's headline numbers are means over 4 training seeds",
  );
  f.fill(e, "judge", { model: PAPER_JUDGE }, "judge", "the paper's judge, Claude Sonnet 4.6");
  f.fill(e, "evals", [{ task: "agentic-misalignment" }], "evals", "the paper's headline eval");
  if (Array.isArray(e.evals))
    for (const [i, ev] of e.evals.entries())
      if (isObj(ev) && AM_TASKS.has(String(ev.task))) amEval(ev, i, f);
  training(e, f);
  specs(e, o, without, f);
  arms(e, o, without, f);
}

/**
 * The paper's AM setup where it differs from ours: 300 samples per scenario (on the standard 27,
 * our default too) at temperature 0.7, and no scratchpad for reasoning models.
 */
function amEval(ev: Obj, i: number, f: Filler) {
  f.fill(ev, "epochs", 300, `evals.${i}.epochs`, "n = 300 samples per scenario");
  f.fill(ev, "temperature", 0.7, `evals.${i}.temperature`, "the paper's sampling temperature");
  const toggles = f.child(ev, "toggles");
  f.fill(
    toggles,
    "scratchpad",
    "auto",
    `evals.${i}.toggles.scratchpad`,
    "reasoning models (Qwen3) get no secret scratchpad, the others do",
  );
}

function training(e: Obj, f: Filler) {
  const t = f.child(e, "training");
  const hp = f.child(t, "hyperparameters");
  f.fill(
    hp,
    "sequence_len",
    8192,
    "training.hyperparameters.sequence_len",
    "8,192 with the IT mix (§4–5)",
  );
  const bases = f.child(t, "base_models");
  for (const model of Array.isArray(e.models) ? e.models : []) {
    const base = PAPER_MODELS[String(model)];
    if (base)
      f.fill(
        bases,
        String(model),
        base,
        `training.base_models.${model}`,
        "the model's Hugging Face base",
      );
  }
  if (t.it === undefined)
    f.notes.push(
      "the paper mixes one instruction-tuning set (≈10k chats) into every AFT run and trains its baseline on it alone: point training.it at your IT files (the README's IT section says how)",
    );
}

/** The specs the preset's own arms train on, from the library unless the file has them. */
function specs(e: Obj, o: PresetOptions, without: Set<PaperPart>, f: Filler) {
  const s = f.child(e, "specs");
  if (!without.has("ladder") || !without.has("anti-spec"))
    f.fill(
      s,
      o.ladder_spec,
      "specific",
      `specs.${o.ladder_spec}`,
      "the §4 spec the ladder and dose arms train on (built-in; point it at the paper's file)",
    );
  if (!without.has("anti-spec"))
    f.fill(
      s,
      o.anti_spec,
      "anti-spec",
      `specs.${o.anti_spec}`,
      "the anti-spec of App. I (built-in)",
    );
}

function arms(e: Obj, o: PresetOptions, without: Set<PaperPart>, f: Filler) {
  if (!Array.isArray(e.arms)) return; // the schema says arms are missing
  const list = e.arms as unknown[];
  const names = new Set(list.map((a) => (isObj(a) ? String(a.name) : "")));
  const add = (arm: Obj, why: string) => {
    if (names.has(String(arm.name))) return;
    names.add(String(arm.name));
    f.values.push({ path: `arms.${list.length}`, value: structuredClone(arm), why });
    list.push(arm);
  };
  const t = isObj(e.training) ? e.training : {};
  const hasItOnly = list.some((a) => isObj(a) && a.kind === "it-only");
  if (!without.has("it-baseline") && !hasItOnly && t.it !== undefined)
    add(
      { name: "it-baseline", kind: "it-only" },
      "the paper's baseline: a model trained on the IT data alone",
    );
  // AFT alone and MSM + AFT on the specific spec, for the ladder and the dose series.
  const onSpec = (prefix: string, extra: Obj, why: string) => {
    add({ name: `${prefix}-aft`, kind: "aft", aft_spec: o.ladder_spec, ...extra }, why);
    add(
      {
        name: `${prefix}-msm+aft`,
        kind: "msm+aft",
        msm_spec: o.ladder_spec,
        aft_spec: o.ladder_spec,
        ...extra,
      },
      why,
    );
  };
  if (!without.has("ladder"))
    onSpec(
      "ladder",
      { aft_sizes: o.ladder_sizes },
      "the data-efficiency ladder (§4): AFT alone and MSM + AFT at each AFT size",
    );
  if (!without.has("anti-spec"))
    onSpec(
      "dose",
      { anti: { spec: o.anti_spec, fractions: o.anti_fractions } },
      "anti-spec doses (App. I): a share of the AFT data written from the anti-spec",
    );
  // Last, so the ladder and dose arms get their no-CoT twins too (§4–5 train each both ways).
  if (!without.has("no-cot"))
    for (const arm of [...list])
      if (isObj(arm) && AFT_KINDS.has(String(arm.kind)) && arm.reasoning === undefined)
        add(
          { ...arm, name: `${arm.name}-nocot`, reasoning: false },
          `the no-CoT twin of arm ${arm.name}: the same AFT examples without their reasoning`,
        );
}
