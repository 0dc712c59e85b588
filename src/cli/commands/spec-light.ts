/**
 * The spec commands that need neither the store nor model access (`spec list`, `spec show`): in a
 * module of their own, so that they start without loading the transforms, the LLM layer or SQLite.
 */
import { readFileSync } from "node:fs";
import {
  checkSpecFile,
  libraryFiles,
  specStats as measureSpec,
  resolveSpecRef,
  withoutPositions,
} from "../../spec/quick.js";
import type { CliContext } from "../context.js";
import { printJson, printTable } from "../output.js";

/** `specsci spec list` */
export function specList(ctx: CliContext) {
  // Each spec parsed once: its check gives the front matter too.
  const entries = libraryFiles().map(({ name, file }) => {
    const spec = checkSpecFile(file).spec;
    const s = measureSpec(spec, []);
    return {
      name,
      rules: s.rules,
      words: s.words,
      description: String(spec.frontMatter.description ?? ""),
      purpose: String(spec.frontMatter.purpose ?? ""),
    };
  });
  if (ctx.json) return printJson(entries);
  printTable(
    ["name", "rules", "words", "description"],
    entries.map((e) => [
      e.name,
      e.rules,
      e.words,
      e.description.length > 90 ? `${e.description.slice(0, 87)}...` : e.description,
    ]),
  );
}

/** `specsci spec show` */
export function specShow(ctx: CliContext, ref: string) {
  const path = resolveSpecRef(ref);
  if (ctx.json) return printJson(withoutPositions(checkSpecFile(path).spec));
  process.stdout.write(readFileSync(path, "utf8"));
}
