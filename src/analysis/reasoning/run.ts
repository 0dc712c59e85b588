/**
 * A whole reasoning analysis of some eval runs: discovery first when asked for, then labels by
 * every labeller and repeat, then the results (frequencies, rules, misuse, agreement, human).
 */
import { stringify as stringifyYaml } from "yaml";
import { z } from "zod";
import { SpecsciError } from "../../core/errors.js";
import { readUserFile } from "../../core/fs.js";
import { parseYamlWithSchema } from "../../core/yaml-schema.js";
import type { LlmClient } from "../../llm/client.js";
import type { Store } from "../../store/index.js";
import { type LabelledRuns, labelRuns, type ReasoningOptions } from "./analyze.js";
import {
  type Discovery,
  type DiscoveryOptions,
  discoverTaxonomy,
  storedTaxonomy,
} from "./discovery.js";
import { type HumanLabel, type ReasoningResults, reasoningResults } from "./results.js";
import {
  BUILTIN_CATEGORIES,
  builtinTaxonomy,
  ReasoningCategory,
  type Taxonomy,
  taxonomyOf,
} from "./taxonomy.js";

export const DISCOVERY_DEFAULTS = {
  minCategories: 4,
  maxCategories: 15,
  maxDrivers: 400,
  overlap: 0.75,
};

export interface AnalyzeOptions extends Omit<ReasoningOptions, "taxonomy"> {
  /** A taxonomy, or `discover` to find one in these transcripts first (with the first labeller). */
  taxonomy: Taxonomy | "discover";
  discovery?: Partial<typeof DISCOVERY_DEFAULTS>;
  human?: HumanLabel[];
}

export interface Analysis {
  results: ReasoningResults;
  labelled: LabelledRuns;
  discovery: Discovery | null;
}

export async function analyzeReasoning(
  client: LlmClient,
  runIds: string[],
  o: AnalyzeOptions,
): Promise<Analysis> {
  let taxonomy: Taxonomy;
  let discovery: Discovery | null = null;
  if (o.taxonomy === "discover") {
    const d: DiscoveryOptions = {
      ...o,
      ...DISCOVERY_DEFAULTS,
      ...o.discovery,
      model: o.labellers[0] as string,
    };
    discovery = await discoverTaxonomy(client, runIds, d);
    taxonomy = discovery.taxonomy;
  } else taxonomy = o.taxonomy;
  const labelled = await labelRuns(client, runIds, { ...o, taxonomy });
  return { results: reasoningResults(labelled, o.spec, o.human), labelled, discovery };
}

const TaxonomyFile = z.strictObject({
  /** Replace the built-in categories (default), or add to them. */
  extends: z.enum(["builtin", "none"]).default("none"),
  categories: z.array(ReasoningCategory).min(1),
});

/**
 * A taxonomy by reference: `builtin`, a stored version (`tax-…`, e.g. from discovery), or a YAML
 * file with `categories:` (and `extends: builtin` to add them to the built-in ones).
 */
export function resolveTaxonomy(store: Store, ref: string | undefined, from?: string): Taxonomy {
  if (!ref || ref === "builtin") return builtinTaxonomy();
  if (/^tax-[0-9a-f]+$/.test(ref)) {
    const t = storedTaxonomy(store, ref);
    if (!t)
      throw new SpecsciError(`no taxonomy ${ref} in this workspace`, {
        hint: "`--taxonomy builtin`, a YAML file, or the version a discovery run printed",
      });
    return t;
  }
  const text = readUserFile(ref, "taxonomy file", {
    from,
    hint: "give builtin, a stored version (tax-…) or a YAML file with categories:",
  });
  const file = parseYamlWithSchema(
    text,
    ref,
    TaxonomyFile,
    "categories: [{ id: snake_case, name, kind: misaligned|aligned|other, description }]",
  );
  return file.extends === "builtin"
    ? taxonomyOf([...BUILTIN_CATEGORIES, ...file.categories], `builtin+${ref}`)
    : taxonomyOf(file.categories, ref);
}

/** A taxonomy as a file `resolveTaxonomy` reads back. */
export const taxonomyYaml = (t: Taxonomy) =>
  `# taxonomy ${t.version} (${t.source}); reuse: specsci analyze reasoning --taxonomy FILE\n${stringifyYaml(
    { extends: "none", categories: t.categories },
  )}`;
