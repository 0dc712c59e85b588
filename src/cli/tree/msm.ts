import type { Command } from "commander";
import type { ContextFactory } from "../context.js";
import { implementedIn } from "../lazy.js";
import { parseFloatOption, parsePositiveIntOption, withSetOption } from "./options.js";

function shared(cmd: Command): Command {
  return withSetOption(cmd)
    .argument("<spec>", "spec file or built-in spec name")
    .option(
      "-r, --recipe <file>",
      "MSM recipe (msm.yaml): counts, models, knobs, gates, dedup, budget; defaults apply without one",
    )
    .option(
      "--target-tokens <n>",
      "generate until the corpus holds N tokens, then trim to it",
      parsePositiveIntOption,
    )
    .option("--model <id>", "generator model for every stage without its own")
    .option("--batch", "send each stage through the provider's batch API");
}

export function registerMsmCommands(program: Command, context: ContextFactory): void {
  const action = implementedIn(() => import("../commands/msm.js"), context);
  const msm = program
    .command("msm")
    .description("Model Spec Midtraining corpora: synthetic documents that discuss a spec");

  shared(msm.command("plan"))
    .description("items per level, calls, tokens and cost of a corpus before any call")
    .action(action("msmPlan"));

  shared(msm.command("generate"))
    .description("generate (or resume) a corpus into a directory; Ctrl-C stops it resumably")
    .option("-o, --out <dir>", "corpus directory (default: corpora/<name>)")
    .option("--no-contamination", "skip the overlap check against the evaluation scenario pack")
    .option("--enforce-contamination", "drop documents that share an n-gram with the scenario pack")
    .action(action("msmGenerate"));

  msm
    .command("compare")
    .description(
      "two corpora side by side: tokens (matched within a tolerance), domain and type mixes, losses",
    )
    .argument("<a>", "corpus directory")
    .argument("<b>", "corpus directory")
    .option("--tolerance <fraction>", "largest allowed token difference", parseFloatOption, 0.01)
    .action(action("msmCompare"));

  msm
    .command("stats")
    .description("statistics and diversity diagnostics of a corpus's dataset.jsonl, streamed")
    .argument("<path>", "corpus directory or dataset.jsonl")
    .action(action("msmStats"));
}
