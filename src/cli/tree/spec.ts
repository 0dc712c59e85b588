import { type Command, InvalidArgumentError, Option } from "commander";
import { DEFAULT_MODELS } from "../../llm/light.js";
import { RICHNESS_STEP_KEYS, TOKENIZERS, TRANSFORMS } from "../../spec/light.js";
import type { ContextFactory } from "../context.js";
import { addHelpSection } from "../help.js";
import { implementedIn } from "../lazy.js";
import {
  collectOption,
  parseCountsOption,
  parseFloatOption,
  parseIntOption,
  parseListOption,
  parsePositiveIntOption,
  withSetOption,
} from "./options.js";

function parseTolerance(v: string): number {
  const n = v.endsWith("%") ? Number(v.slice(0, -1)) / 100 : Number(v);
  if (!Number.isFinite(n) || n <= 0 || n >= 1)
    throw new InvalidArgumentError('expected a fraction such as 0.02 or a percentage such as "2%"');
  return n;
}

export function registerSpecCommands(program: Command, context: ContextFactory): void {
  const action = implementedIn(() => import("../commands/spec.js"), context);
  const quick = implementedIn(() => import("../commands/spec-light.js"), context);
  const spec = program
    .command("spec")
    .description("specs: lint, list, show, measure, compare, import and derive variants");

  withSetOption(spec.command("lint"))
    .description(
      "check specs: duplicate ids, unknown references, empty rules, malformed front matter",
    )
    .argument("<files...>", "spec files (or built-in names)")
    .option("--strict", "fail on warnings too")
    .action(action("specLint"));

  spec.command("list").description("the built-in spec library").action(quick("specList"));

  spec
    .command("show")
    .description("print a spec (a built-in name or a file); --json gives the parsed model")
    .argument("<spec>", "built-in name or file")
    .action(quick("specShow"));

  withSetOption(spec.command("stats"))
    .description(
      "words, characters, rules, subrules, explanation share and tokens (Qwen3, GPT o200k)",
    )
    .argument("<specs...>", "spec files (or built-in names)")
    .action(action("specStats"));

  withSetOption(spec.command("diff"))
    .description(
      "compare two specs rule by rule: rules and subrules added, removed or changed, explanation changes",
    )
    .argument("<a>", "spec file or built-in name")
    .argument("<b>", "spec file or built-in name")
    .action(action("specDiff"));

  withSetOption(spec.command("import"))
    .description(
      "convert a spec file to specsci's Markdown (rules as headings), placeholders filled; reads the MSM paper's bullet layout",
    )
    .argument("<file>", "spec file (.txt or Markdown)")
    .option("-o, --out <file>", "write the converted spec here (default: stdout)")
    .action(action("specImport"));

  addHelpSection(
    withSetOption(spec.command("derive")),
    "Transforms:",
    Object.entries(TRANSFORMS).map(([name, t]) => [
      name,
      `${t.summary}${t.model ? " (needs --model)" : ""}`,
    ]),
  )
    .summary("derive a controlled variant, recording its lineage in front matter")
    .description(
      "derive a controlled variant of a spec by one transform (listed below), recording its lineage in front matter",
    )
    .argument("<base>", "spec file or built-in name")
    .addOption(
      new Option("-t, --transform <name>", "the transform")
        .choices(Object.keys(TRANSFORMS))
        .makeOptionMandatory(),
    )
    .option(
      "-o, --out <path>",
      "write the variant here (default: stdout); richness-ladder without --rung: a directory, one file per rung",
    )
    .option("--name <name>", "name for the variant's front matter")
    .option(
      "-m, --model <id>",
      `model for model-assisted transforms (default: defaults.generator in specsci.yaml, else ${DEFAULT_MODELS.anthropic.generator})`,
    )
    .option(
      "--attempts <n>",
      "answers to ask for per item before failing",
      parsePositiveIntOption,
      3,
    )
    .option("--temperature <t>", "sampling temperature", parseFloatOption)
    .option("--keep-preamble", "strip-explanations: keep the prose before the first section")
    .option("--rules <ids>", "select, augment-*: rule ids, comma-separated", parseListOption)
    .option("--sections <title>", "select: a section title (repeatable)", collectOption)
    .option("--model-name <name>", "set-attribution: the new model name")
    .option("--developer <name>", "set-attribution: the new developer")
    .option("--humans", "set-attribution: make the spec about people")
    .option("--start <n>", "renumber: first number", parsePositiveIntOption)
    .option(
      "--words <n>",
      "augment-values, generalize: words of explanation",
      parsePositiveIntOption,
    )
    .option("--count <n>", "augment-subrules: new subrules per rule", parsePositiveIntOption)
    .addOption(
      new Option("--mode <mode>", "rephrase: descriptive or normative").choices([
        "descriptive",
        "normative",
      ]),
    )
    .option("--lang <language>", "translate: target language")
    .option("--title <title>", "generalize: title of the new spec")
    .option("--to <spec>", "match-length: the spec to match")
    .addOption(
      new Option("--tokenizer <name>", "match-length, richness-ladder: tokenizer")
        .choices([...TOKENIZERS])
        .default("qwen3"),
    )
    .option(
      "--tolerance <t>",
      'match-length, richness-ladder: allowed difference, e.g. "2%"',
      parseTolerance,
    )
    .option("--rounds <n>", "match-length: rounds before giving up", parsePositiveIntOption)
    .option(
      "--rung <n>",
      "richness-ladder: the rung, 0 (general) to the number of steps (richest; 3 by default)",
      parseIntOption,
    )
    .option(
      "--steps <steps>",
      `richness-ladder: its steps in order, comma-separated (default: ${RICHNESS_STEP_KEYS.join(",")})`,
      parseListOption,
    )
    .option(
      "--paragraphs <step=n>",
      "richness-ladder: paragraphs a step adds, e.g. principles=12,examples=6 (default: 8, 4, 4)",
      parseCountsOption,
    )
    .option(
      "--target-tokens <n>",
      "richness-ladder: pad every rung to this many tokens (default: the richest rung's)",
      parsePositiveIntOption,
    )
    .action(action("specDerive"));
}
