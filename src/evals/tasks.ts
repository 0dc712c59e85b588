/**
 * Every registered eval task. A new task is one folder under `evals/` with its definition, and
 * one line here.
 */
import { SpecsciError } from "../core/errors.js";
import { closestMatch } from "../core/text.js";
import { amDefinition } from "./am/definition.js";
import { idQaDefinition } from "./id-qa/definition.js";
import { mcqDefinition } from "./mcq/definition.js";
import type { TaskDefinition } from "./registry.js";
import { specKnowledgeDefinition } from "./spec-knowledge/definition.js";
import { valueGeneralizationDefinition } from "./value-generalization/definition.js";

// biome-ignore lint/suspicious/noExplicitAny: each definition has its own argument type
const TASKS: TaskDefinition<any>[] = [
  amDefinition,
  valueGeneralizationDefinition,
  idQaDefinition,
  specKnowledgeDefinition,
  mcqDefinition,
];

/**
 * Adds a task of your own (a library user's, or a test's): from then on experiments, `eval run`,
 * reports and exports know it. A name or alias already taken is an error.
 */
// biome-ignore lint/suspicious/noExplicitAny: as above
export function registerTask(def: TaskDefinition<any>): void {
  const taken = TASKS.flatMap((t) => [t.name, ...t.aliases]);
  const clash = [def.name, ...def.aliases].find((n) => taken.includes(n));
  if (clash) throw new SpecsciError(`a task named "${clash}" is already registered`);
  TASKS.push(def);
}

// biome-ignore lint/suspicious/noExplicitAny: as above
export function taskDefinitions(): readonly TaskDefinition<any>[] {
  return TASKS;
}

/** The task named `name` (or one of its aliases); an unknown name is an error listing the tasks. */
// biome-ignore lint/suspicious/noExplicitAny: as above
export function taskDefinition(name: string): TaskDefinition<any> {
  const found = TASKS.find((t) => t.name === name || t.aliases.includes(name));
  if (found) return found;
  const names = TASKS.flatMap((t) => [t.name, ...t.aliases]);
  const near = closestMatch(name, names);
  throw new SpecsciError(`unknown task "${name}"${near ? ` (did you mean ${near}?)` : ""}`, {
    hint: `tasks: ${TASKS.map((t) => (t.aliases.length ? `${t.name} (alias ${t.aliases.join(", ")})` : t.name)).join(", ")}; \`specsci eval tasks\` describes them`,
  });
}
