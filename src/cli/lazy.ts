import type { CliContext, ContextFactory } from "./context.js";

/**
 * What a command does: given the context, then what commander passes an action (the arguments,
 * the options, the command).
 */
// biome-ignore lint/suspicious/noExplicitAny: commander passes the parsed arguments untyped, as to any action
export type Action = (ctx: CliContext, ...args: any[]) => unknown;

type ActionName<M> = { [K in keyof M]: M[K] extends Action ? K : never }[keyof M] & string;

/**
 * Actions implemented in the module `load` imports, named by its exports: the module is imported
 * only when one of its commands runs, so declaring the whole command tree (all that `--help`,
 * `--version` and a usage error need) loads none of the commands' code or libraries.
 */
export function implementedIn<M>(load: () => Promise<M>, context: ContextFactory) {
  return (name: ActionName<M>) =>
    async (...args: unknown[]): Promise<void> => {
      const action = (await load())[name] as Action;
      await action(await context(), ...args);
    };
}
