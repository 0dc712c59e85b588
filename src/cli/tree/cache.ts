import type { Command } from "commander";
import type { ContextFactory } from "../context.js";
import { implementedIn } from "../lazy.js";

export function registerCacheCommands(program: Command, context: ContextFactory): void {
  const action = implementedIn(() => import("../commands/cache.js"), context);
  const cache = program.command("cache").description("the response cache");
  cache.command("stats").description("cached responses per model").action(action("cacheStats"));
}
