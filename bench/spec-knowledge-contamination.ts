/**
 * Contamination-check speed (npx tsx bench/spec-knowledge-contamination.ts): the spec-knowledge
 * items of the built-in `rule-augmented` and `value-augmented` specs against 20,000 synthetic
 * documents of 400 words drawn from the specs' own vocabulary (so probes' words recur everywhere,
 * the hard case for a string search), 1% of them with a spec sentence planted. Reports the time
 * and the items flagged. Arguments: [documents] [words per document].
 */
import { readFileSync } from "node:fs";
import { seededRandom } from "../src/core/random.js";
import { contaminatedItems } from "../src/evals/spec-knowledge/contamination.js";
import { generateItems } from "../src/evals/spec-knowledge/items.js";
import { LIBRARY_DIR } from "../src/spec/library.js";
import { parseSpec } from "../src/spec/parse.js";

const DOCS = Number(process.argv[2] ?? 20_000);
const WORDS = Number(process.argv[3] ?? 400);

const sources = ["rule-augmented", "value-augmented"].map((n) =>
  readFileSync(`${LIBRARY_DIR}${n}.md`, "utf8"),
);
const items = sources.flatMap((s) => generateItems(parseSpec(s).spec, 0));
const vocabulary = sources.join(" ").split(/\s+/).filter(Boolean);
const sentences = items.flatMap((i) => i.quotes);
const random = seededRandom(2026);
const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)] as T;

const docs: string[] = [];
for (let d = 0; d < DOCS; d++) {
  const ws = Array.from({ length: WORDS }, () => pick(vocabulary));
  if (d % 100 === 0) ws.splice(Math.floor(random() * WORDS), 0, pick(sentences));
  docs.push(ws.join(" "));
}
const chars = docs.reduce((n, d) => n + d.length, 0);

const start = performance.now();
const hits = contaminatedItems(items, docs);
const ms = performance.now() - start;
console.log(
  `${items.length} items, ${DOCS} documents (${(chars / 1e6).toFixed(1)} M characters): ${hits.length} items flagged in ${ms.toFixed(0)} ms`,
);
