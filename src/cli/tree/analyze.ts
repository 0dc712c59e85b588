import type { Command } from "commander";
import { DEFAULT_MODELS } from "../../llm/light.js";
import type { ContextFactory } from "../context.js";
import { implementedIn } from "../lazy.js";
import {
  collectOption,
  parseFloatOption,
  parsePositiveIntOption,
  parseSetOption,
} from "./options.js";

export function registerAnalyzeCommands(program: Command, context: ContextFactory): void {
  const action = implementedIn(() => import("../commands/analyze.js"), context);
  const analyze = program
    .command("analyze")
    .description("analyses of finished runs: the reasoning in their transcripts");
  analyze
    .command("reasoning")
    .description(
      "label each transcript's reasoning (taxonomy categories, rules invoked, policy misuse) with quotes checked against it; frequencies with intervals, agreement",
    )
    .argument("<run...>", "eval run id(s) (`specsci status EXPERIMENT` shows them)")
    .option(
      "--labeller <model>",
      `the labelling model (default: defaults.labeller in specsci.yaml, else ${DEFAULT_MODELS.anthropic.labeller})`,
    )
    .option("--second <model>", "another labeller, for agreement (repeatable)", collectOption, [])
    .option(
      "--repeats <n>",
      "labels per transcript per labeller (agreement between repeats)",
      parsePositiveIntOption,
      1,
    )
    .option("--spec <ref>", "the spec under test (default: the spec the runs were prompted with)")
    .option(
      "--set <name=value>",
      "fill {name} placeholders in the --spec file (repeatable)",
      parseSetOption,
    )
    .option(
      "--taxonomy <ref>",
      "builtin, a stored version (tax-…), or a YAML file of categories",
      "builtin",
    )
    .option(
      "--discover",
      "discover the categories in these transcripts first (the paper's open-ended method)",
    )
    .option("--min-categories <n>", "discovery: fewest categories", parsePositiveIntOption, 4)
    .option("--max-categories <n>", "discovery: most categories", parsePositiveIntOption, 15)
    .option(
      "--overlap <share>",
      "discovery: merge categories sharing more than this share of the smaller one's transcripts",
      parseFloatOption,
      0.75,
    )
    .option("--write-taxonomy <file>", "write the taxonomy used, to reuse with --taxonomy")
    .option("--human <file>", "human labels (JSONL) to measure the labeller against")
    .option(
      "--attempts <n>",
      "answers asked for before a label is invalid",
      parsePositiveIntOption,
      3,
    )
    .option("--temperature <t>", "labeller temperature", parseFloatOption, 0)
    .option("--max-tokens <n>", "labeller output budget", parsePositiveIntOption, 2000)
    .option("--concurrency <n>", "transcripts labelled at once", parsePositiveIntOption, 16)
    .option("-o, --out <file>", "write every result and label as JSON")
    .action(action("analyzeReasoning"));
}
