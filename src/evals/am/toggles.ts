/**
 * Run-level settings that change the prompt but not the condition id (apart from the renderer, so
 * that the CLI's help can name their defaults without loading it).
 */
export interface Toggles {
  modelName: string;
  /** Ask for visible reasoning in scratchpad tags (off for models with native reasoning). */
  scratchpad: boolean;
  safetyInstructions: boolean;
  evalNotice: boolean;
  /**
   * Add the deterrents some families carry beyond the original design (coercion: a compliance
   * channel; exfiltration: a security email and a logged, scoped key). Off, as in the original.
   */
  deterrents: boolean;
}

export const DEFAULT_TOGGLES: Toggles = {
  modelName: "Qwen",
  scratchpad: true,
  safetyInstructions: false,
  evalNotice: false,
  deterrents: false,
};
