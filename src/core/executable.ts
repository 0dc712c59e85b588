import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/**
 * The path of an executable as a shell would find it: a name is looked up on PATH, a path is
 * taken as it is. Undefined when there is none. (Node has no `which`; the `which` package would be
 * a dependency for these few lines.)
 */
export function findExecutable(command: string): string | undefined {
  const runnable = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (command.includes("/")) return runnable(command) ? command : undefined;
  for (const dir of (process.env.PATH ?? "").split(delimiter))
    if (dir && runnable(join(dir, command))) return join(dir, command);
  return undefined;
}
