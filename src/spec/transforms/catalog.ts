/**
 * The transforms by name, with what each does and whether it needs a model: apart from their
 * implementations, so the CLI can list them in its help without loading any.
 */
export const TRANSFORMS = {
  "strip-explanations": {
    model: false,
    summary: "rules only: remove explanations and section prose",
  },
  select: { model: false, summary: "keep a subset of rules (--rules) or sections (--sections)" },
  "set-attribution": {
    model: false,
    summary: "change whom the spec is about (--model-name, --developer, or --humans)",
  },
  renumber: { model: false, summary: "renumber rules per prefix and update references" },
  "augment-values": {
    model: true,
    summary: "explain the values behind each rule; rule text stays byte-identical",
  },
  "augment-subrules": { model: true, summary: "add --count more subrules to each rule" },
  generalize: { model: true, summary: "a one-paragraph general spec in the same spirit" },
  rephrase: { model: true, summary: "rewrite all text --mode descriptive or normative" },
  translate: { model: true, summary: "translate all text to --lang" },
  "match-length": {
    model: true,
    summary: "expand or trim to within --tolerance of --to's token count",
  },
  "richness-ladder": {
    model: true,
    summary:
      "from a general spec, --rung 0-3 of a ladder adding principles, examples, self-preservation guidance (--steps, --paragraphs, --target-tokens change it); every rung length-matched",
  },
} as const;

export type TransformName = keyof typeof TRANSFORMS;

/**
 * The richness ladder's steps (see `ladder.ts`): what each adds, its section's heading, and by
 * default how many paragraphs of about how many words.
 */
export const RICHNESS_STEPS = [
  { key: "principles", heading: "Principles", count: 8, words: 40 },
  { key: "examples", heading: "Worked examples", count: 4, words: 90 },
  { key: "self-preservation", heading: "Self-preservation", count: 4, words: 60 },
] as const;
export type RichnessStepKey = (typeof RICHNESS_STEPS)[number]["key"];
export const RICHNESS_STEP_KEYS = RICHNESS_STEPS.map((s) => s.key) as [
  RichnessStepKey,
  ...RichnessStepKey[],
];
/** Paragraphs a step may ask for: enough for any spec, few enough for one answer. */
export const MAX_STEP_PARAGRAPHS = 40;

export function isTransformName(name: string): name is TransformName {
  return Object.hasOwn(TRANSFORMS, name);
}
