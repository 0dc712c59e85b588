/**
 * Spec lab speed (npm run bench): parse, lint and token-count a 50,000-word spec. The spec is
 * built from the library's own texts, with every rule renumbered and every paragraph varied so
 * that tokenizer caches do not flatter the result.
 */
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { resolveSpecRef } from "../src/spec/library.js";
import { lintSpec } from "../src/spec/lint.js";
import { rulesOf } from "../src/spec/model.js";
import { parseSpec } from "../src/spec/parse.js";
import { renderRule } from "../src/spec/render.js";
import { getTokenizer } from "../src/spec/tokens.js";

const TARGET_WORDS = 50_000;
const source = (name: string) => parseSpec(readFileSync(resolveSpecRef(name), "utf8")).spec;
const rules = rulesOf(source("value-augmented"));
const prose = readFileSync(resolveSpecRef("specific"), "utf8")
  .split("\n\n")
  .filter((p) => !p.startsWith("#") && !p.startsWith("---"));

const parts = ["# A very long spec", ""];
let words = 0;
for (let copy = 1; words < TARGET_WORDS; copy++) {
  parts.push(`## Part ${copy}`, "");
  for (const [i, rule] of rules.entries()) {
    const id = `R${copy * 10 + i}`;
    const text = renderRule({ ...rule, id, level: 3 })
      .join("\n\n")
      .replace(/\b(the|a|an)\b/g, (w, _m, offset: number) =>
        offset % 7 === copy % 7 ? `${w} ${copy}th` : w,
      );
    parts.push(text, "", `${prose[(copy + i) % prose.length]} (See ${id}.)`, "");
    words +=
      text.split(/\s+/).length + (prose[(copy + i) % prose.length]?.split(/\s+/).length ?? 0);
  }
}
const markdown = parts.join("\n");
const wordCount = markdown.split(/\s+/).filter(Boolean).length;

const time = <T>(fn: () => T): [T, number] => {
  const t = performance.now();
  const r = fn();
  return [r, performance.now() - t];
};
const [, qwenLoad] = time(() => getTokenizer("qwen3"));
const [, o200kLoad] = time(() => getTokenizer("gpt-o200k").count("warm up"));
const [parsed, parseMs] = time(() => parseSpec(markdown));
const [diagnostics, lintMs] = time(() => lintSpec(parsed.spec, parsed.diagnostics));
const [qwenTokens, qwenMs] = time(() => getTokenizer("qwen3").count(markdown));
const [o200kTokens, o200kMs] = time(() => getTokenizer("gpt-o200k").count(markdown));
if (diagnostics.some((d) => d.severity === "error"))
  throw new Error(`bench spec has lint errors: ${diagnostics[0]?.message}`);

const rows: [string, string][] = [
  [
    "spec size",
    `${wordCount} words, ${rulesOf(parsed.spec).length} rules, ${markdown.length} characters`,
  ],
  ["parse", `${parseMs.toFixed(0)} ms`],
  ["lint", `${lintMs.toFixed(0)} ms`],
  ["count Qwen3 tokens", `${qwenMs.toFixed(0)} ms (${qwenTokens} tokens)`],
  ["count o200k tokens", `${o200kMs.toFixed(0)} ms (${o200kTokens} tokens)`],
  ["parse + lint + Qwen3 count (target < 1 s)", `${(parseMs + lintMs + qwenMs).toFixed(0)} ms`],
  [
    "one-time tokenizer load (Qwen3, o200k)",
    `${qwenLoad.toFixed(0)} ms, ${o200kLoad.toFixed(0)} ms`,
  ],
];
const width = Math.max(...rows.map((r) => r[0].length));
process.stdout.write(
  `\nspecsci spec lab — ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}\n\n`,
);
for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
