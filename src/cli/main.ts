import { Command, CommanderError, Option } from "commander";
import { SpecsciError } from "../core/errors.js";
import { redact } from "../core/secrets.js";
import { ModelCallError } from "../llm/errors.js";
import { damagedStoreError } from "../store/db.js";
import { registerAftCommands } from "./commands/aft.js";
import { registerAnalyzeCommands } from "./commands/analyze.js";
import { registerBatchCommands } from "./commands/batch.js";
import { registerCacheCommands } from "./commands/cache.js";
import { registerEvalCommands } from "./commands/eval.js";
import { registerExperimentCommands } from "./commands/experiment.js";
import { registerLlmCommands } from "./commands/llm.js";
import { registerModelsCommands } from "./commands/models.js";
import { registerMsmCommands } from "./commands/msm.js";
import { registerQuickstart } from "./commands/quickstart.js";
import { registerReportCommand } from "./commands/report.js";
import { registerSpecCommands } from "./commands/spec.js";
import { registerStatsCommands } from "./commands/stats.js";
import { registerStoreCommands } from "./commands/store.js";
import { registerTrainCommands } from "./commands/train.js";
import { registerUsageCommand } from "./commands/usage.js";
import { CliContext, type ContextFactory, type GlobalOptions } from "./context.js";
import { EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USER_ERROR } from "./exit-codes.js";

export const VERSION = "0.1.0";

export function buildProgram(): {
  program: Command;
  context: ContextFactory;
  closeContext: () => void;
  storeFile: () => string | undefined;
} {
  const program = new Command("specsci")
    .description(
      "Model Spec Science: which ways of writing a Model Spec make alignment training generalize best",
    )
    .version(VERSION)
    .option(
      "-w, --workspace <dir>",
      "workspace holding the run store (env SPECSCI_WORKSPACE; default ./.specsci)",
    )
    .option(
      "-c, --config <file>",
      "config file (env SPECSCI_CONFIG; default ./specsci.yaml if present)",
    )
    .option("--json", "print machine-readable JSON on stdout")
    .option("-q, --quiet", "no progress bars or notes on stderr")
    .option("-v, --verbose", "more detail on stderr")
    .option("--no-cache", "neither read nor write the response cache")
    .addOption(
      new Option(
        "--cache-mode <mode>",
        "response cache: on, read-only, off, replay (misses fail)",
      ).choices(["on", "read-only", "off", "replay"]),
    )
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();

  let ctx: CliContext | undefined;
  const context: ContextFactory = () => {
    ctx ??= new CliContext(program.opts<GlobalOptions>());
    return ctx;
  };

  registerQuickstart(program, context);
  registerExperimentCommands(program, context);
  registerReportCommand(program, context);
  registerSpecCommands(program, context);
  registerEvalCommands(program, context);
  registerMsmCommands(program, context);
  registerAftCommands(program, context);
  registerTrainCommands(program, context);
  registerAnalyzeCommands(program, context);
  registerModelsCommands(program, context);
  registerLlmCommands(program, context);
  registerUsageCommand(program, context);
  registerBatchCommands(program, context);
  registerCacheCommands(program, context);
  registerStatsCommands(program, context);
  registerStoreCommands(program, context);
  return {
    program,
    context,
    closeContext: () => ctx?.close(),
    storeFile: () => ctx?.openedStoreFile,
  };
}

/** Runs the CLI and returns the exit code; every error a user can cause ends in one clear line. */
export async function main(argv: string[]): Promise<number> {
  const { program, closeContext, storeFile } = buildProgram();
  endQuietlyWhenReaderCloses(closeContext);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    const file = storeFile();
    return reportError((file && damagedStoreError(e, file)) || e);
  } finally {
    closeContext();
  }
}

/**
 * A reader that went away (`specsci usage | head`) wants no more output: the write fails with
 * EPIPE, and the command ends quietly (the store closed, so nothing recorded is lost) instead of
 * dying on an unhandled stream error. Other stream errors stay errors.
 */
function endQuietlyWhenReaderCloses(closeContext: () => void): void {
  for (const stream of [process.stdout, process.stderr])
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code !== "EPIPE") throw e;
      closeContext();
      process.exit(typeof process.exitCode === "number" ? process.exitCode : 0);
    });
}

function reportError(e: unknown): number {
  if (e instanceof CommanderError) {
    // Commander has already printed its message (or the help / version text).
    return e.exitCode;
  }
  if (e instanceof SpecsciError) {
    process.stderr.write(`specsci: error: ${redact(e.message)}\n`);
    if (e.hint) process.stderr.write(`  hint: ${redact(e.hint)}\n`);
    return e.exitCode;
  }
  if (e instanceof ModelCallError) {
    process.stderr.write(`specsci: error: ${e.message}\n`);
    return EXIT_USER_ERROR;
  }
  if ((e as { name?: string })?.name === "AbortError") {
    process.stderr.write("specsci: interrupted; run the same command again to resume\n");
    return EXIT_INTERRUPTED;
  }
  const message = e instanceof Error ? e.message : String(e);
  process.stderr.write(`specsci: internal error: ${redact(message)}\n`);
  if (process.env.SPECSCI_DEBUG && e instanceof Error && e.stack)
    process.stderr.write(`${redact(e.stack)}\n`);
  else
    process.stderr.write(
      "  this is a bug in specsci; set SPECSCI_DEBUG=1 to see the stack trace\n",
    );
  return EXIT_INTERNAL;
}
