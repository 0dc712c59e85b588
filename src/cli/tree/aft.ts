import { type Command, InvalidArgumentError } from "commander";
import type { ContextFactory } from "../context.js";
import { implementedIn } from "../lazy.js";
import {
  collectOption,
  parseFloatOption,
  parseIntOption,
  parsePositiveIntOption,
  withSetOption,
} from "./options.js";

const parseStyle = (v: string) => {
  if (v !== "value" && v !== "rule") throw new InvalidArgumentError("use value or rule");
  return v;
};

/** The spec argument and the options that override the recipe, shared by plan and generate. */
function recipeOptions(cmd: Command): Command {
  return withSetOption(cmd)
    .argument("<spec>", "spec file or built-in spec name")
    .option("-r, --recipe <file>", "AFT recipe (aft.yaml); defaults apply without one")
    .option("--examples <n>", "passing examples to select", parsePositiveIntOption)
    .option(
      "--target-tokens <n>",
      "select by tokens of the with-reasoning set instead",
      parsePositiveIntOption,
    )
    .option("--model <id>", "teacher for every stage without its own model")
    .option(
      "--chat-template <family>",
      "the trained base's family (`specsci train bases`): turn format and token counts",
    )
    .option("--style <style>", "value (internalized values) or rule (cites rule ids)", parseStyle);
}

export function registerAftCommands(program: Command, context: ContextFactory): void {
  const action = implementedIn(() => import("../commands/aft.js"), context);
  const aft = program
    .command("aft")
    .description(
      "alignment fine-tuning chat sets: spec-aligned demonstrations with and without reasoning",
    );

  recipeOptions(aft.command("plan"))
    .description("calls, tokens and cost of a chat set before any call")
    .action(action("aftPlan"));

  recipeOptions(aft.command("generate"))
    .description("generate (or resume) a chat set from a spec; Ctrl-C stops it resumably")
    .option("-o, --out <dir>", "chat-set directory (default: chatsets/<name>)")
    .option("--batch", "send each stage through the provider's batch API")
    .option("--no-contamination", "skip the overlap check against the evaluation scenario pack")
    .option(
      "--enforce-contamination",
      "leave out examples that share an n-gram with the scenario pack",
    )
    .action(action("aftGenerate"));

  aft
    .command("mix")
    .description(
      "mix an anti-spec set into an aligned one at an exact fraction, plus instruction-tuning files (alone: an IT-only set)",
    )
    .argument("[aligned]", "chat-set directory of the aligned set (none: the IT files alone)")
    .requiredOption("-o, --out <dir>", "directory of the mixed set")
    .option("--anti <dir>", "chat-set directory of the anti-spec set")
    .option("--fraction <f>", "share of anti-spec examples, 0 to 1", parseFloatOption)
    .option(
      "--it <file>",
      'instruction-tuning JSONL ({"messages": [...]} lines); repeatable',
      collectOption,
      [],
    )
    .option("--it-examples <n>", "take this many of the IT files' examples", parsePositiveIntOption)
    .option(
      "--it-fraction <f>",
      "take this share (0 to 1] of the IT files' examples",
      parseFloatOption,
    )
    .option(
      "--it-seed <n>",
      "seed of which IT examples are taken (default: --seed)",
      parseIntOption,
    )
    .option(
      "--examples <n>",
      "aligned + anti-spec examples (default: the aligned set's size)",
      parsePositiveIntOption,
    )
    .option("--seed <n>", "seed of the selection", parseIntOption, 42)
    .option(
      "--license <id>",
      "the dataset card's licence (a Hugging Face licence id; default: the aligned set's)",
    )
    .action(action("aftMix"));

  const pref = implementedIn(() => import("../commands/pref.js"), context);
  withSetOption(aft.command("pref"))
    .description(
      "generate (or resume) a preference set: AFT prompts, aligned chosen and judged-violation rejected answers, optionally contaminated",
    )
    .argument("<spec>", "spec file or built-in spec name")
    .option("-r, --recipe <file>", "preference recipe (pref.yaml, with the AFT recipe under aft:)")
    .option("-o, --out <dir>", "preference-set directory (default: prefsets/<name>)")
    .option("--pairs <n>", "preference pairs to make", parsePositiveIntOption)
    .option("--model <id>", "teacher for every stage without its own model")
    .option(
      "--chat-template <family>",
      "the trained base's family (`specsci train bases`): turn format and token counts",
    )
    .option(
      "--contamination <f>",
      "share of pairs turned against the spec, 0 to 1",
      parseFloatOption,
    )
    .option(
      "--contamination-kind <kind>",
      "misaligned (chosen and rejected swapped) or reward-hacking (a grader-gaming chosen)",
      parseContaminationKind,
    )
    .action(pref("aftPref"));
}

const parseContaminationKind = (v: string) => {
  if (v !== "misaligned" && v !== "reward-hacking")
    throw new InvalidArgumentError("use misaligned or reward-hacking");
  return v;
};
