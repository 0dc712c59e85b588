/** The MSM prompt set: versioned files under `prompts/msm/` (see `core/prompt-files.ts`). */
import { promptSet } from "../../core/prompt-files.js";

export { feedbackText, type PromptTemplate, renderPrompt } from "../../core/prompt-files.js";

export const PROMPT_NAMES = [
  "system",
  "domains",
  "subdomains",
  "assertions",
  "doc-types",
  "ideas",
  "document",
  "judge",
] as const;
export type PromptName = (typeof PROMPT_NAMES)[number];

const MSM_PROMPTS = promptSet("msm", PROMPT_NAMES);
export const loadPrompt = MSM_PROMPTS.load;
export const promptVersions = MSM_PROMPTS.versions;
