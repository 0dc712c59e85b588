import { SpecsciError } from "../core/errors.js";
import { MODEL_ID_EXAMPLES, modelIdFormProblem } from "../core/model-ids.js";

export interface ModelRef {
  /** `anthropic`, `openai`, `local`, `fake`, or a named OpenAI-compatible endpoint. */
  provider: string;
  /** Everything after the first slash: the provider's own model name (may contain slashes). */
  name: string;
  id: string;
}

/** Splits `provider/model` at the first slash. */
export function parseModelId(id: string): ModelRef {
  if (modelIdFormProblem(id)) {
    throw new SpecsciError(`model id "${id}" is not of the form provider/model`, {
      hint: MODEL_ID_EXAMPLES,
    });
  }
  const slash = id.indexOf("/");
  return { provider: id.slice(0, slash), name: id.slice(slash + 1), id };
}

/** Models that run in this process on the local engine (GGUF files, specsci's built-in ones). */
export const isLocalModel = (modelId: string) => modelId.startsWith("local/");

/** Models specsci builds itself (fixed, constructed weights): their outputs are synthetic. */
export const isBuiltinModel = (modelId: string) => modelId.startsWith("local/builtin:");
