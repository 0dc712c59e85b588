import { Command, CommanderError, Option } from "commander";
import { envSetting, packageVersion, redact, SpecsciError } from "../core/light.js";
import { ModelCallError } from "../llm/light.js";
import type { CliContext, ContextFactory, GlobalOptions } from "./context.js";
import { EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USER_ERROR } from "./exit-codes.js";
// The command tree: each module declares its commands (names, arguments, options, help) and
// imports what they do only when one runs, so that `--help` starts fast.
import { registerAftCommands } from "./tree/aft.js";
import { registerAnalyzeCommands } from "./tree/analyze.js";
import { registerAnnotateCommands } from "./tree/annotate.js";
import { registerBatchCommands } from "./tree/batch.js";
import { registerCacheCommands } from "./tree/cache.js";
import { registerEvalCommands } from "./tree/eval.js";
import { registerExperimentCommands } from "./tree/experiment.js";
import { registerExportCommands } from "./tree/export.js";
import { registerLlmCommands } from "./tree/llm.js";
import { registerModelsCommands } from "./tree/models.js";
import { registerMsmCommands } from "./tree/msm.js";
import { registerQuickstart } from "./tree/quickstart.js";
import { registerReportCommand } from "./tree/report.js";
import { registerSpecCommands } from "./tree/spec.js";
import { registerStatsCommands } from "./tree/stats.js";
import { registerStoreCommands } from "./tree/store.js";
import { registerTrainCommands } from "./tree/train.js";
import { registerUsageCommand } from "./tree/usage.js";
import { registerViewCommand } from "./tree/view.js";

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
    .version(packageVersion().version)
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
  const context: ContextFactory = async () => {
    const { CliContext } = await import("./context.js");
    ctx ??= new CliContext(program.opts<GlobalOptions>());
    return ctx;
  };

  registerQuickstart(program, context);
  registerExperimentCommands(program, context);
  registerReportCommand(program, context);
  registerExportCommands(program, context);
  registerViewCommand(program, context);
  registerSpecCommands(program, context);
  registerEvalCommands(program, context);
  registerMsmCommands(program, context);
  registerAftCommands(program, context);
  registerTrainCommands(program, context);
  registerAnalyzeCommands(program, context);
  registerAnnotateCommands(program, context);
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
    // Options given before a parse error are known; --json anywhere asks for JSON either way.
    const json = program.opts<GlobalOptions>().json === true || argv.includes("--json");
    return reportError((file && (await asDamagedStore(e, file))) || e, json);
  } finally {
    closeContext();
  }
}

/** The error as a damaged store's, where it is one (only asked once a command opened the store). */
async function asDamagedStore(e: unknown, file: string): Promise<Error | undefined> {
  // biome-ignore lint/style/noRestrictedImports: loaded only on an error after a command opened the store (so it is loaded already)
  return (await import("../store/index.js")).damagedStoreError(e, file);
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

/** What the user is told about an error that ended a command. */
interface ErrorReport {
  exitCode: number;
  /** Stable, for scripts reading `--json`: user_error, usage, model_call, interrupted, internal. */
  code: string;
  message: string;
  hint?: string | undefined;
  /** The first line's prefix on stderr; undefined when commander has printed it already. */
  prefix?: "error" | "internal error" | undefined;
}

function describeError(e: unknown): ErrorReport | undefined {
  if (e instanceof CommanderError) {
    // Help and version are not errors; commander has printed its message (or the text) already.
    if (e.exitCode === 0) return undefined;
    return { exitCode: e.exitCode, code: "usage", message: e.message.replace(/^error: /, "") };
  }
  if (e instanceof SpecsciError)
    return {
      exitCode: e.exitCode,
      code: "user_error",
      message: e.message,
      hint: e.hint,
      prefix: "error",
    };
  if (e instanceof ModelCallError)
    return { exitCode: EXIT_USER_ERROR, code: "model_call", message: e.message, prefix: "error" };
  if ((e as { name?: string })?.name === "AbortError")
    return {
      exitCode: EXIT_INTERRUPTED,
      code: "interrupted",
      message: "interrupted; run the same command again to resume",
    };
  const debug = envSetting("SPECSCI_DEBUG") !== undefined && e instanceof Error && e.stack;
  return {
    exitCode: EXIT_INTERNAL,
    code: "internal",
    message: e instanceof Error ? e.message : String(e),
    hint: debug
      ? undefined
      : "this is a bug in specsci; set SPECSCI_DEBUG=1 to see the stack trace",
    prefix: "internal error",
  };
}

/**
 * One clear message on stderr (never a stack, unless SPECSCI_DEBUG asks for it) and, with
 * --json, the same as one JSON object on stdout, where a script reads the command's output.
 */
function reportError(e: unknown, json: boolean): number {
  const r = describeError(e);
  if (!r) return (e as CommanderError).exitCode;
  const message = redact(r.message);
  const hint = r.hint === undefined ? undefined : redact(r.hint);
  if (r.prefix) process.stderr.write(`specsci: ${r.prefix}: ${message}\n`);
  else if (r.code === "interrupted") process.stderr.write(`specsci: ${message}\n`);
  if (r.code === "internal" && !hint && e instanceof Error && e.stack)
    process.stderr.write(`${redact(e.stack)}\n`);
  else if (hint && r.prefix) process.stderr.write(`  hint: ${hint}\n`);
  if (json)
    process.stdout.write(
      `${JSON.stringify({ error: { code: r.code, exit_code: r.exitCode, message, hint: hint ?? null } })}\n`,
    );
  return r.exitCode;
}
