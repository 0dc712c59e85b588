import type { Command } from "commander";
import type { ContextFactory } from "../context.js";
import { implementedIn } from "../lazy.js";

export function registerExperimentCommands(program: Command, context: ContextFactory): void {
  const action = implementedIn(() => import("../commands/experiment.js"), context);
  program
    .command("plan")
    .description(
      "what `specsci run` would do: stages, model calls, tokens and cost per stage, what is cached; no calls made",
    )
    .argument("<experiment>", "experiment file (experiment.yaml)")
    .action(action("plan"));

  program
    .command("run")
    .description(
      "run (or resume) an experiment: spec variants, the trained arms' data, training and serving where this machine can, then every eval stage; Ctrl-C stops it resumably",
    )
    .argument("<experiment>", "experiment file (experiment.yaml)")
    .action(action("run"));

  program
    .command("status")
    .description("where every stage of an experiment stands")
    .argument("<experiment>", "experiment file (experiment.yaml)")
    .action(action("status"));
}
