/**
 * Item sets cached in the store's artifacts, keyed by (spec hash, generator version, seed): the
 * items a run was built from are the ones a later build of it gets, even after the generator's
 * code changes without a version bump, so a run's id and items never shift under it.
 */
import { z } from "zod";
import { SpecsciError } from "../../core/errors.js";
import type { Spec } from "../../spec/model.js";
import type { Store } from "../../store/index.js";
import { generateItems, ITEM_KINDS, ITEMS_VERSION, type KnowledgeItem } from "./items.js";

export const ITEMS_ARTIFACT_KIND = "spec-knowledge-items";

export const itemsKey = (specHash: string, seed: number, version = ITEMS_VERSION) =>
  `${ITEMS_ARTIFACT_KIND}:${specHash}:${version}:${seed}`;

const StoredItem = z.object({
  id: z.string(),
  kind: z.enum(ITEM_KINDS),
  rule: z.string(),
  question: z.string(),
  options: z.array(z.string()).optional(),
  target: z.string().optional(),
  quotes: z.array(z.string()),
  reference: z
    .object({
      id: z.string(),
      statement: z.string(),
      subrules: z.array(z.object({ id: z.string(), text: z.string() })),
      explanation: z.array(z.string()),
    })
    .optional(),
});

export interface SpecUnderTest {
  name: string;
  hash: string;
  spec: Spec;
}

/** The spec's items for `seed`: the stored set when there is one, else generated and stored. */
export function cachedItems(
  under: SpecUnderTest,
  seed: number,
  store: Store | undefined,
): KnowledgeItem[] {
  const key = itemsKey(under.hash, seed);
  const stored = store?.artifacts.get(key);
  if (stored) {
    const parsed = z.array(StoredItem).safeParse(JSON.parse(stored.content));
    if (!parsed.success)
      throw new SpecsciError(
        `the stored spec-knowledge items ${key} are malformed (${parsed.error.issues[0]?.message ?? "unreadable"})`,
        { hint: "the workspace's store was edited or damaged; restore it, or use another --seed" },
      );
    return parsed.data as KnowledgeItem[];
  }
  const items = generateItems(under.spec, seed);
  store?.artifacts.put(key, ITEMS_ARTIFACT_KIND, JSON.stringify(items), {
    spec: { name: under.name, hash: under.hash },
    items_version: ITEMS_VERSION,
    seed,
    items: items.length,
  });
  return items;
}
