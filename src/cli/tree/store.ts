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
  store
    .command("copy")
    .description("copy a run store between SQLite and PostgreSQL, checked table by table")
    .argument("<src>", "a workspace directory (its store.db and blobs/) or a postgres:// URL")
    .argument("<dst>", "the same; an empty store (a new directory or an empty database)")
    .option(
      "--replace",
      "delete everything in DST first, in the copy's transaction (a failed copy leaves DST as it was)",
    )
    .addHelpText(
      "after",
      `
Every table and row is copied, blobs included: SQLite to PostgreSQL, back, or between two of
either. Both stores are migrated to this specsci's schema first (a store from a newer specsci
is refused). The copy is one transaction on DST: it commits only after every table's row count
and content hash match SRC's, so a crash or a failed check leaves DST as it was (on SQLite,
blob files a crashed copy left are reused or pruned by the next). SRC is read in one
snapshot and may be in use. Ids and rowids are kept; generated columns and trigger-kept tables
(the search index, reasoning_label_index) are rebuilt by DST and checked. A text holding a NUL
character cannot go to PostgreSQL: its row is named and nothing is copied. Passwords come from
PGPASSWORD or ~/.pgpass and are never shown. Progress goes to stderr; --json prints the checks.`,
    )
    .action(action("storeCopy"));
}
