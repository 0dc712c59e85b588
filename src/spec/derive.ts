/**
 * Deriving a spec variant as it will be written: the derived spec rendered to Markdown and read
 * back through the linter, so that a variant which would not load again (say, a selected rule
 * citing one the selection dropped) is refused where it is made rather than where it is read.
 * `specsci spec derive` and an experiment's derived specs both derive through here.
 */
import { SpecsciError } from "../core/errors.js";
import type { Diagnostic } from "./diagnostics.js";
import { lintSpec } from "./lint.js";
import type { Spec } from "./model.js";
import { parseSpec } from "./parse.js";
import { renderSpec } from "./render.js";
import type { ModelContext } from "./transforms/generative.js";
import {
  type DeriveParams,
  type DeriveResult,
  deriveRichnessLadder,
  deriveSpec,
  type TransformName,
} from "./transforms/index.js";

export interface DeriveOptions {
  model?: ModelContext;
  /** The derived spec's name (front matter `name`); by default the parent's, suffixed. */
  name?: string;
}

export interface CheckedDerivation extends DeriveResult {
  /** The derived spec as Markdown, front matter and lineage included: what is written. */
  markdown: string;
}

/**
 * A derived spec whose Markdown, read back, has lint errors (`problems`): the user's parameters
 * (a selection dropping a cited rule, say) made it, so it is theirs to fix, not a bug.
 */
export class UnsoundDerivedSpec extends SpecsciError {
  constructor(readonly problems: Diagnostic[]) {
    super(
      `derived spec does not lint clean: ${problems.map((d) => `${d.line}:${d.column} ${d.message}`).join("; ")}`,
      {
        hint: "change the transform's parameters: a selection must keep every rule its rules cite",
      },
    );
    this.name = "UnsoundDerivedSpec";
  }
}

/** `deriveSpec`, then the result rendered and linted; throws `UnsoundDerivedSpec` on errors. */
export async function deriveCheckedSpec(
  parent: Spec,
  transform: TransformName,
  params: DeriveParams,
  options: DeriveOptions = {},
): Promise<CheckedDerivation> {
  return checked(await deriveSpec(parent, transform, params, options));
}

/** Every rung of the richness ladder (`deriveRichnessLadder`), each rendered and linted. */
export async function deriveCheckedRichnessLadder(
  parent: Spec,
  params: DeriveParams,
  options: DeriveOptions = {},
): Promise<CheckedDerivation[]> {
  return (await deriveRichnessLadder(parent, params, options)).map(checked);
}

function checked(result: DeriveResult): CheckedDerivation {
  const markdown = renderSpec(result.spec);
  const problems = lintSpec(parseSpec(markdown).spec).filter((d) => d.severity === "error");
  if (problems.length) throw new UnsoundDerivedSpec(problems);
  return { ...result, markdown };
}
