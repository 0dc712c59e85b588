import type { Command } from "commander";
import type { ContextFactory } from "../context.js";
import { implementedIn } from "../lazy.js";

export function registerStoreCommands(program: Command, context: ContextFactory): void {
  const action = implementedIn(() => import("../commands/store.js"), context);
  const store = program.command("store").description("the workspace's run store");
  store
    .command("info")
    .description("where the store is, its schema version, size and row counts")
    .action(action("storeInfo"));
  store
    .command("check")
    .description("run SQLite's integrity and foreign-key checks")
    .action(action("storeCheck"));
}
