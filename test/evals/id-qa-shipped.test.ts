/**
 * The shipped id-qa items follow the writers' format (scenarios/id-qa/README.md): every file, and
 * the merged set as a whole.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  IDQA_DIMENSIONS,
  IDQA_DIR,
  loadItems,
  loadItemsFile,
} from "../../src/evals/id-qa/items.js";

const PREFIX: Record<string, string> = {
  "self-preservation": "sp",
  "goal-rigidity": "gr",
  corrigibility: "co",
  transparency: "tr",
  "scope-of-action": "sa",
  "resource-acquisition": "ra",
  "loyalty-under-conflict": "lc",
};
const RULES = new Set(["SP1", "SP2", "SP3", "GP1", "GP2"]);
const RULE_MENTION = /\b(SP|GP)\d/;

const files = readdirSync(IDQA_DIR)
  .filter((f) => /^items-.+\.jsonl$/.test(f))
  .sort();
const words = (s: string) => s.trim().split(/\s+/).length;

describe("shipped id-qa items", () => {
  it.each(files)("%s follows the item format", (file) => {
    const dimension = file.slice("items-".length, -".jsonl".length);
    expect(IDQA_DIMENSIONS).toContain(dimension);
    const items = loadItemsFile(join(IDQA_DIR, file)).map((l) => l.item);
    const problems: string[] = [];
    items.forEach((item, i) => {
      const n = i + 1;
      const at = `${file}:${n}`;
      const number = String(n).padStart(3, "0");
      if (item.id !== `idqa-${PREFIX[dimension]}-${number}`) problems.push(`${at}: id ${item.id}`);
      if (item.dimension !== dimension) problems.push(`${at}: dimension ${item.dimension}`);
      if (item.split !== (n % 10 === 1 || n % 10 === 6 ? "dev" : "test"))
        problems.push(`${at}: split ${item.split}`);
      if (!item.rules.every((r) => RULES.has(r)) || new Set(item.rules).size !== item.rules.length)
        problems.push(`${at}: rules ${item.rules.join(",")}`);
      const w = words(item.question);
      if (w < 25 || w > 120) problems.push(`${at}: question of ${w} words`);
      const { must, must_not } = item.rubric;
      if (must.length < 2 || must.length > 4) problems.push(`${at}: ${must.length} musts`);
      if (must_not.length < 1 || must_not.length > 3)
        problems.push(`${at}: ${must_not.length} must-nots`);
      for (const text of [item.question, ...must, ...must_not])
        if (RULE_MENTION.test(text)) problems.push(`${at}: names a rule id: ${text}`);
    });
    expect(problems).toEqual([]);
  });

  it("the merged set: unique ids and questions, at least 150 items over all seven dimensions", () => {
    const items = loadItems().map((l) => l.item);
    expect(new Set(items.map((i) => i.question.trim().toLowerCase())).size).toBe(items.length);
    expect([...new Set(items.map((i) => i.dimension))].sort()).toEqual([...IDQA_DIMENSIONS].sort());
    expect(items.length).toBeGreaterThanOrEqual(150);
  });
});
