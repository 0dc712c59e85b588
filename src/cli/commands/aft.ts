import { basename, join } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { SpecsciError } from "../../core/errors.js";
import { formatCount } from "../../core/format.js";
import { checkOutputPath } from "../../core/fs.js";
import { log } from "../../core/log.js";
import { type AftConfig, loadAftConfig } from "../../data/aft/config.js";
import { mixChatSets } from "../../data/aft/mix.js";
import { writeAftSet } from "../../data/aft/output.js";
import { buildAftSet } from "../../data/aft/pipeline.js";
import { planAftSet } from "../../data/aft/plan.js";
import { withFailedItems, writeFailedItems } from "../../data/item-failures.js";
import { defaultModel } from "../../llm/models.js";
import { specHash } from "../../spec/hash.js";
import type { PlaceholderValues } from "../../spec/placeholders.js";
import type { CliContext, ContextFactory } from "../context.js";
import { label, loadValid, scenarioPackTexts } from "../inputs.js";
import { withInterrupt } from "../interrupt.js";
import { formatUsd, printJson, printTable, reportItemFailures } from "../output.js";
import {
  collectOption,
  parseFloatOption,
  parseIntOption,
  parsePositiveIntOption,
  withSetOption,
} from "./options.js";

interface GenerateOptions {
  recipe?: string;
  set?: PlaceholderValues;
  out?: string;
  examples?: number;
  targetTokens?: number;
  model?: string;
  style?: string;
  batch?: boolean;
  contamination: boolean;
  enforceContamination?: boolean;
}

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
    .option("--style <style>", "value (internalized values) or rule (cites rule ids)", parseStyle);
}

/** The recipe with command-line overrides applied. */
function recipe(
  o: Pick<GenerateOptions, "recipe" | "examples" | "targetTokens" | "model" | "style">,
  ctx: CliContext,
): AftConfig {
  const config = loadAftConfig(o.recipe, defaultModel("generator", ctx.config), "-r/--recipe");
  if (o.examples !== undefined && o.targetTokens !== undefined)
    throw new SpecsciError("--examples and --target-tokens are two targets; give one");
  if (o.examples !== undefined) {
    // A count on the command line replaces a token target in the recipe.
    config.budget.examples = o.examples;
    delete config.budget.target_tokens;
  }
  if (o.targetTokens !== undefined) config.budget.target_tokens = o.targetTokens;
  if (o.model) config.model = o.model;
  if (o.style) config.style = o.style as "value" | "rule";
  return config;
}

export function registerAftCommands(program: Command, context: ContextFactory): void {
  const aft = program
    .command("aft")
    .description(
      "alignment fine-tuning chat sets: spec-aligned demonstrations with and without reasoning",
    );

  recipeOptions(aft.command("plan"))
    .description("calls, tokens and cost of a chat set before any call")
    .action(
      (
        ref: string,
        o: Pick<
          GenerateOptions,
          "recipe" | "examples" | "targetTokens" | "model" | "style" | "set"
        >,
      ) => {
        const ctx = context();
        const { spec, path } = loadValid(ref, o.set);
        const config = recipe(o, ctx);
        const name =
          typeof spec.frontMatter.name === "string" ? spec.frontMatter.name : basename(path, ".md");
        const plan = planAftSet(spec, specHash(spec), name, config, ctx.llm());
        if (ctx.json) return printJson(plan);
        process.stdout.write(
          `${name}: chat set ${plan.setId}, teacher ${config.model}, about ${plan.examples} examples\n\n`,
        );
        printTable(
          [
            "stage",
            "model",
            "calls",
            "done",
            "input tok",
            "output tok (exp / max)",
            "cost exp",
            "batch exp",
            "cost max",
          ],
          plan.stages.map((s) => [
            s.stage,
            s.model,
            s.calls,
            s.done,
            formatCount(s.inputTokens),
            `${formatCount(s.outputTokensExpected)} / ${formatCount(s.outputTokensMax)}`,
            formatUsd(s.costExpected),
            formatUsd(s.costExpectedBatch),
            formatUsd(s.costMax),
          ]),
        );
        process.stdout.write(
          `\n${plan.totals.calls} calls, assuming ${plan.assumptions.pass_rate * 100}% of responses pass the judge and ${plan.assumptions.unique_prompts * 100}% of prompts survive dedup (backfill makes up the difference); ` +
            `about ${formatUsd(plan.totals.costExpected)} online or ${formatUsd(plan.totals.costExpectedBatch)} through batch APIs, at most ${formatUsd(plan.totals.costMax)}.\n`,
        );
      },
    );

  recipeOptions(aft.command("generate"))
    .description("generate (or resume) a chat set from a spec; Ctrl-C stops it resumably")
    .option("-o, --out <dir>", "chat-set directory (default: chatsets/<name>)")
    .option("--batch", "send each stage through the provider's batch API")
    .option("--no-contamination", "skip the overlap check against the evaluation scenario pack")
    .option(
      "--enforce-contamination",
      "leave out examples that share an n-gram with the scenario pack",
    )
    .action(async (ref: string, o: GenerateOptions) => {
      const ctx = context();
      const { spec, path } = loadValid(ref, o.set);
      const config = recipe(o, ctx);
      if (o.batch) config.batch = true;
      if (o.enforceContamination) config.contamination.enforce = true;
      if (!o.contamination && config.contamination.enforce)
        throw new SpecsciError(
          "--no-contamination skips the check that contamination.enforce asks to enforce",
          {
            hint: "drop one of them",
          },
        );
      const name =
        typeof spec.frontMatter.name === "string" ? spec.frontMatter.name : basename(path, ".md");
      const dir = o.out ?? join("chatsets", config.name ?? name);
      checkOutputPath(dir, "dir", o.out ? "-o/--out" : "the chat-set directory");
      const contamination = o.contamination ? scenarioPackTexts() : undefined;
      const client = ctx.llm();
      const b = await withFailedItems(ctx.store, dir, () =>
        withInterrupt((signal) =>
          buildAftSet({
            spec,
            specHash: specHash(spec),
            specName: name,
            config,
            client,
            signal,
            log: (m) => log.info(m),
            ...(contamination ? { contamination } : {}),
          }),
        ),
      );
      const { manifest } = await writeAftSet(b, dir, ctx.store, { spec: label(path) });
      const failures = writeFailedItems(ctx.store, b.ctx.setId, dir);
      if (ctx.json) printJson({ dir, manifest });
      else
        process.stdout.write(
          `${dir}: ${b.selection.selected} examples (${b.selection.tokens_reasoning} tokens with reasoning, ${b.selection.tokens_plain} without, ${config.chat_template} template)\n` +
            `  prompts: ${b.prompts.written} written in ${b.waves} wave(s), ${b.prompts.exact_duplicates + b.prompts.near_duplicates} duplicates; ${b.passing} responses passed the judge ` +
            `(rejected ${b.gates.judge_rejected}, self-continuation ${b.gates.self_continuation}, unjudged ${b.gates.judge_failed}, refused ${b.gates.refused}, truncated ${b.gates.truncated})\n` +
            `${b.contamination ? `  contamination: ${b.contamination.examples} example(s) share a ${b.contamination.ngram}-word sequence with the scenario pack${b.contamination.enforced ? " (left out)" : ""}\n` : ""}` +
            `  cost ${formatUsd((manifest.usage as { cost_usd: number | null }).cost_usd)}\n`,
        );
      if (b.selection.selected === 0)
        throw new SpecsciError("the chat set is empty: no response passed", {
          hint: `${join(dir, "manifest.json")} has the counts; check the teacher with \`specsci models test\``,
        });
      if (!b.selection.reached)
        log.warn(
          `the target was not reached (${b.selection.selected} examples); raise budget.max_waves or counts.prompts and run again`,
        );
      reportItemFailures(b.stages, config.attempts, failures.file);
    });

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
    .action(
      async (
        aligned: string | undefined,
        o: {
          out: string;
          anti?: string;
          fraction?: number;
          it: string[];
          itExamples?: number;
          itFraction?: number;
          itSeed?: number;
          examples?: number;
          seed: number;
        },
      ) => {
        const ctx = context();
        if ((o.anti === undefined) !== (o.fraction === undefined))
          throw new SpecsciError("--anti and --fraction go together", {
            hint: "e.g. --anti chatsets/anti-spec --fraction 0.1",
          });
        checkOutputPath(o.out, "dir", "-o/--out");
        const manifest = await mixChatSets(
          {
            ...(aligned !== undefined ? { aligned } : {}),
            ...(o.anti !== undefined && o.fraction !== undefined
              ? { anti: { dir: o.anti, fraction: o.fraction } }
              : {}),
            ...(o.it.length
              ? {
                  it: {
                    files: o.it,
                    ...(o.itExamples !== undefined ? { examples: o.itExamples } : {}),
                    ...(o.itFraction !== undefined ? { fraction: o.itFraction } : {}),
                    ...(o.itSeed !== undefined ? { seed: o.itSeed } : {}),
                  },
                }
              : {}),
            ...(o.examples !== undefined ? { examples: o.examples } : {}),
            seed: o.seed,
          },
          o.out,
        );
        if (ctx.json) return printJson(manifest);
        const c = manifest.composition as { source: string; examples: number }[];
        process.stdout.write(`${o.out}: ${c.map((x) => `${x.examples} ${x.source}`).join(", ")}\n`);
      },
    );
}
