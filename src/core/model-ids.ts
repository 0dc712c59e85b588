/**
 * The form every model id takes, `provider/model`. It lives in core because config files are
 * validated here, below the llm layer that resolves ids, and both must say the same thing.
 */
import { z } from "zod";

export const MODEL_ID_EXAMPLES =
  "e.g. anthropic/claude-sonnet-4-6, openai/gpt-5.4-mini, together/Qwen/Qwen3-8B, local/hf:owner/repo/file.gguf";

/** Why `id` is not of the form `provider/model`, or undefined when it is. */
export function modelIdFormProblem(id: string): string | undefined {
  const slash = id.indexOf("/");
  if (slash > 0 && slash < id.length - 1) return undefined;
  return `model id "${id}" is not of the form provider/model (${MODEL_ID_EXAMPLES})`;
}

/** A setting that names a model: checked when its file is read, so the error names the setting. */
export const ModelIdSetting = z.string().superRefine((id, ctx) => {
  const problem = modelIdFormProblem(id);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});
