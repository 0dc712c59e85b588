import type { Command } from "commander";
import type { ContextFactory } from "../context.js";
import { printJson, printTable } from "../output.js";

export function registerCacheCommands(program: Command, context: ContextFactory): void {
  const cache = program.command("cache").description("the response cache");
  cache
    .command("stats")
    .description("cached responses per model")
    .action(() => {
      const ctx = context();
      const stats = ctx.store.llm.cacheStats();
      if (ctx.json) return printJson(stats);
      printTable(
        ["model", "entries"],
        [...stats.models.map((m) => [m.model, m.entries]), ["total", stats.entries]],
      );
    });
}
