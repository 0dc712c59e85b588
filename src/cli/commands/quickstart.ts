import type { Command } from "commander";
import { SpecsciError } from "../../core/errors.js";
import { readSecret } from "../../core/secrets.js";
import { callMany } from "../../llm/client.js";
import { BUILTIN_TINY } from "../../llm/providers/local.js";
import type { ChatRequest } from "../../llm/types.js";
import type { ContextFactory } from "../context.js";
import { formatUsd, printJson } from "../output.js";

const QUESTIONS = [
  "In two sentences: why might explaining the values behind a rule help an AI assistant apply it in situations the rule did not anticipate?",
  "In two sentences: what could go wrong if an AI assistant follows a list of rules without knowing why they exist?",
  "In one sentence: what does it mean for an AI system to support legitimate human oversight?",
];

/** Which model the quickstart uses: --model, then --demo, then whichever API key is configured. */
export function chooseQuickstartModel(opts: { model?: string; demo?: boolean }): {
  id: string;
  synthetic: boolean;
} {
  if (opts.model) return { id: opts.model, synthetic: false };
  if (opts.demo) return { id: `local/${BUILTIN_TINY}`, synthetic: true };
  if (readSecret("ANTHROPIC_API_KEY"))
    return { id: "anthropic/claude-haiku-4-5", synthetic: false };
  if (readSecret("OPENAI_API_KEY")) return { id: "openai/gpt-4.1-mini", synthetic: false };
  throw new SpecsciError(
    "no model to run the quickstart on: no --model was given and no API key is set",
    {
      hint:
        "pick one: --demo (built-in tiny offline model, synthetic answers); ANTHROPIC_API_KEY or OPENAI_API_KEY in the environment or .env; " +
        "--model vllm/<name> for a local server; --model local/<path-to.gguf> or local/hf:owner/repo/file.gguf",
    },
  );
}

export function registerQuickstart(program: Command, context: ContextFactory): void {
  program
    .command("quickstart")
    .description(
      "check the whole model access layer end to end: a few prompts, answered, recorded, replayed from cache, accounted",
    )
    .option(
      "-m, --model <id>",
      "model to use (default: the first of --demo, ANTHROPIC_API_KEY, OPENAI_API_KEY)",
    )
    .option("--demo", "use the built-in tiny offline model (its answers are synthetic)")
    .option("-n, --samples <n>", "samples per prompt", (v) => Number.parseInt(v, 10), 2)
    .action(async (opts: { model?: string; demo?: boolean; samples: number }) => {
      const ctx = context();
      const choice = chooseQuickstartModel(opts);
      const client = ctx.llm();
      const model = client.model(choice.id);
      const runId = `quickstart-${new Date().toISOString().replace(/[:.]/g, "-")}`;
      ctx.store.runs.ensure({
        id: runId,
        kind: "quickstart",
        config: { model: choice.id, samples: opts.samples },
      });
      const requests: ChatRequest[] = QUESTIONS.flatMap((q) =>
        Array.from({ length: opts.samples }, (_, sampleIndex) => ({
          messages: [{ role: "user" as const, content: q }],
          params: { max_tokens: 300, temperature: 1 },
          sampleIndex,
        })),
      );
      const first = await callMany(model, requests, { context: { runId, stage: "answer" } });
      const replay = await callMany(model, requests, { context: { runId, stage: "replay" } });
      const failed = first.filter((o) => !o.ok);
      const replayed = replay.filter((o) => o.ok && o.source === "cache").length;
      ctx.store.runs.setStatus(runId, failed.length ? "failed" : "completed");
      const usage = ctx.store.llm.usage({ runId });

      if (ctx.json) {
        return printJson({
          run: runId,
          model: choice.id,
          synthetic: choice.synthetic,
          outcomes: first,
          replayed_from_cache: replayed,
          usage,
        });
      }
      const out = process.stdout;
      out.write(
        `specsci quickstart: ${choice.id}${choice.synthetic ? " (demo: built-in tiny model, answers are synthetic)" : ""}\n\n`,
      );
      for (const [i, o] of first.entries()) {
        const q = QUESTIONS[Math.floor(i / opts.samples)] as string;
        if (i % opts.samples === 0) out.write(`Q: ${q}\n`);
        out.write(
          o.ok
            ? `  [sample ${i % opts.samples}] ${o.text.trim()}${o.stopReason === "max_tokens" ? " [cut off]" : ""}\n`
            : `  [sample ${i % opts.samples}] FAILED: ${o.error.message}\n`,
        );
      }
      const cost = usage.reduce((a, r) => a + r.costUsd, 0);
      out.write(
        `\n${first.length - failed.length}/${first.length} answered; replaying the same ${replay.length} requests took ${replayed} answers from the cache.\n` +
          `cost ${formatUsd(cost)}; run id ${runId}; store ${ctx.store.dir}\n` +
          "next: `specsci usage` for the accounting, `specsci models test <id>` to check another model.\n",
      );
      if (failed.length)
        throw new SpecsciError(
          `${failed.length} of ${first.length} calls failed: ${failed[0] && !failed[0].ok ? failed[0].error.message : ""}`,
        );
    });
}
