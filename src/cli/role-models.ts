import { SpecsciError } from "../core/index.js";
import { defaultModel, type LlmClient, type ModelRole } from "../llm/index.js";
import type { CliContext } from "./context.js";

/**
 * The model for a role: the one the user chose with `flag`, else the default (specsci.yaml's
 * `defaults:`, then specsci's own). A default that cannot be used (no key for it) says that it is
 * the default and how to choose another, since the user never named it.
 */
export function roleModel(
  ctx: CliContext,
  role: ModelRole,
  chosen: string | undefined,
  flag: string,
): ReturnType<LlmClient["model"]> {
  if (chosen) return ctx.llm().model(chosen);
  try {
    return ctx.llm().model(defaultModel(role, ctx.config));
  } catch (e) {
    if (!(e instanceof SpecsciError)) throw e;
    throw new SpecsciError(`the default ${role} cannot be used: ${e.message}`, {
      hint: `${e.hint ? `${e.hint}; or ` : ""}choose the ${role} with ${flag} <id>, or set defaults.${role} in specsci.yaml`,
      exitCode: e.exitCode,
    });
  }
}
