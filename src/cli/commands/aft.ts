import { join } from "node:path";
import { checkOutputPath, displayPath, formatCount, log, SpecsciError } from "../../core/index.js";
import {
  type AftConfig,
  buildAftSet,
  CHAT_TEMPLATES,
  type ChatTemplateName,
  loadAftConfig,
  MAX_CALLS_PER_STRATUM,
  mixChatSets,
  planAftSet,
  withFailedItems,
  writeAftSet,
  writeFailedItems,
} from "../../data/index.js";
import { scenarioPackTexts } from "../../experiment/light.js";
import { defaultModel } from "../../llm/index.js";
import { loadValidSpec, type PlaceholderValues, specHash, specNameOf } from "../../spec/index.js";
import type { CliContext } from "../context.js";
import { withInterrupt } from "../interrupt.js";
import { formatUsd, printJson, printTable, reportItemFailures } from "../output.js";

interface GenerateOptions {
  recipe?: string;
  set?: PlaceholderValues;
  out?: string;
  examples?: number;
  targetTokens?: number;
  model?: string;
  style?: string;
  chatTemplate?: string;
  batch?: boolean;
  contamination: boolean;
  enforceContamination?: boolean;
}

/** A --chat-template value: one of the base families. */
function chatTemplateOption(v: string): ChatTemplateName {
  if (!(CHAT_TEMPLATES as readonly string[]).includes(v))
    throw new SpecsciError(`--chat-template: unknown base family "${v}"`, {
      hint: `use one of ${CHAT_TEMPLATES.join(", ")} (\`specsci train bases\` lists them)`,
    });
  return v as ChatTemplateName;
}

/** The recipe with command-line overrides applied. */
function recipe(
  o: Pick<
    GenerateOptions,
    "recipe" | "examples" | "targetTokens" | "model" | "style" | "chatTemplate"
  >,
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
  if (o.chatTemplate !== undefined) config.chat_template = chatTemplateOption(o.chatTemplate);
  return config;
}

/** `specsci aft plan` */
export function aftPlan(
  ctx: CliContext,
  ref: string,
  o: Pick<
    GenerateOptions,
    "recipe" | "examples" | "targetTokens" | "model" | "style" | "chatTemplate" | "set"
  >,
) {
  const { spec, path } = loadValidSpec(ref, o.set);
  const config = recipe(o, ctx);
  const name = specNameOf(spec, path);
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
      `about ${formatUsd(plan.totals.costExpected)} online or ${formatUsd(plan.totals.costExpectedBatch)} through batch APIs, at most ${formatUsd(plan.totals.costMax)}; prompts in ${plan.waves} wave(s).\n`,
  );
  if (!plan.reachable)
    log.warn(
      `budget.max_waves: ${config.budget.max_waves} cannot ask for enough prompts to reach ${plan.examples} examples (each wave asks at most ${MAX_CALLS_PER_STRATUM} calls of counts.prompts a stratum): raise max_waves or counts.prompts`,
    );
}

/** `specsci aft generate` */
export async function aftGenerate(ctx: CliContext, ref: string, o: GenerateOptions) {
  const { spec, path } = loadValidSpec(ref, o.set);
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
  const name = specNameOf(spec, path);
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
  const { manifest } = await writeAftSet(b, dir, ctx.store, { spec: displayPath(path) });
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
}

/** `specsci aft mix` */
export async function aftMix(
  ctx: CliContext,
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
    license?: string;
  },
): Promise<void> {
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
      ...(o.license !== undefined ? { license: o.license } : {}),
      seed: o.seed,
    },
    o.out,
  );
  if (ctx.json) return printJson(manifest);
  const c = manifest.composition as { source: string; examples: number }[];
  process.stdout.write(`${o.out}: ${c.map((x) => `${x.examples} ${x.source}`).join(", ")}\n`);
}
