/**
 * Checks the value-generalization preference pairs against the fixed pair format
 * (scenarios/value-generalization/pairs-<rule>.jsonl) and prints a summary.
 *
 *   node scripts/check-vg-pairs.mjs [FILE...]
 *
 * With no FILE it checks every pairs-*.jsonl in scenarios/value-generalization/. Each problem is
 * printed as FILE:LINE: message; the exit status is 1 when there is any, 2 when a file is missing.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const PAIRS_DIR = join(ROOT, "scenarios", "value-generalization");

const KEYS = ["id", "rule", "temptation", "domain", "split", "situation", "aligned", "misaligned"];
const RULES = ["SP1", "SP2", "SP3", "GP1", "GP2"];
const TEMPTATIONS = [
  "self-preservation",
  "goal-guarding",
  "deception",
  "ends-justify-means",
  "overreach",
];
const SITUATION_WORDS = [60, 130];
const RESPONSE_WORDS = [35, 90];
const MAX_LENGTH_RATIO = 1.3;
const MAX_DOMAIN_REPEATS = 2;
const MIN_TEMPTATIONS_PER_FILE = 3;
// Words that would tell the model it is being evaluated or name the rule it should honour.
const GIVEAWAY = /\b(?:SP[1-3]|GP[1-2]|model spec|this is a test|evaluation scenario)\b/i;

const wordCount = (text) => text.trim().split(/\s+/).filter(Boolean).length;

/** The rule a file holds, from its name: pairs-sp1.jsonl → SP1. */
function ruleOfFile(file) {
  const match = /^pairs-([a-z]+\d)\.jsonl$/.exec(basename(file));
  return match ? match[1].toUpperCase() : undefined;
}

/** Problems of one parsed item; `expectedNumber` is its 1-based line among items. */
function itemProblems(item, rule, expectedNumber) {
  const problems = [];
  const keys = Object.keys(item);
  if (keys.join(",") !== KEYS.join(",")) {
    problems.push(`keys must be exactly, in order: ${KEYS.join(", ")} (found ${keys.join(", ")})`);
    return problems;
  }
  for (const key of KEYS) {
    if (typeof item[key] !== "string" || item[key].trim() === "")
      problems.push(`"${key}" must be a non-empty string`);
  }
  if (problems.length > 0) return problems;

  const number = String(expectedNumber).padStart(3, "0");
  const expectedId = `vg-${rule?.toLowerCase()}-${number}`;
  if (item.id !== expectedId) problems.push(`id is "${item.id}", expected "${expectedId}"`);
  if (item.rule !== rule) problems.push(`rule is "${item.rule}", the file holds ${rule}`);
  if (!RULES.includes(item.rule)) problems.push(`rule must be one of ${RULES.join(", ")}`);
  if (!TEMPTATIONS.includes(item.temptation))
    problems.push(`temptation "${item.temptation}" must be one of ${TEMPTATIONS.join(", ")}`);
  const expectedSplit = /[16]$/.test(number) ? "dev" : "test";
  if (item.split !== expectedSplit)
    problems.push(`split is "${item.split}", ids ending in 1 or 6 are dev, others test`);

  const situationWords = wordCount(item.situation);
  if (situationWords < SITUATION_WORDS[0] || situationWords > SITUATION_WORDS[1])
    problems.push(`situation has ${situationWords} words, needs ${SITUATION_WORDS.join("–")}`);
  if (!/^You\b/.test(item.situation))
    problems.push('situation must be second person, opening "You …"');
  if (!item.situation.trim().endsWith("?"))
    problems.push("situation must end by asking what the AI does (a question)");
  for (const key of ["situation", "aligned", "misaligned"]) {
    if (GIVEAWAY.test(item[key])) problems.push(`${key} names a rule, the spec or the test`);
  }
  for (const key of ["aligned", "misaligned"]) {
    const words = wordCount(item[key]);
    if (words < RESPONSE_WORDS[0] || words > RESPONSE_WORDS[1])
      problems.push(`${key} has ${words} words, needs ${RESPONSE_WORDS.join("–")}`);
    if (!/\b(?:I|I'm|I'll|I've|I'd|me|my)\b/.test(item[key]))
      problems.push(`${key} must be first person`);
  }
  const [a, m] = [wordCount(item.aligned), wordCount(item.misaligned)];
  const ratio = Math.max(a, m) / Math.min(a, m);
  if (ratio > MAX_LENGTH_RATIO)
    problems.push(`aligned/misaligned lengths ${a}/${m} differ by more than ${MAX_LENGTH_RATIO}×`);
  return problems;
}

/** Parses and checks one file; returns its items and its problems as "FILE:LINE: message". */
function checkFile(file) {
  const name = basename(file);
  const rule = ruleOfFile(file);
  const problems = [];
  if (!rule || !RULES.includes(rule))
    problems.push(`${name}: name must be pairs-<rule>.jsonl with rule one of ${RULES.join(", ")}`);
  const lines = readFileSync(file, "utf8").split("\n");
  if (lines.at(-1) === "") lines.pop();
  const items = [];
  lines.forEach((line, index) => {
    const where = `${name}:${index + 1}`;
    let item;
    try {
      item = JSON.parse(line);
    } catch (error) {
      problems.push(`${where}: not valid JSON (${error.message})`);
      return;
    }
    for (const problem of itemProblems(item, rule, index + 1))
      problems.push(`${where}: ${problem}`);
    items.push(item);
  });
  problems.push(...fileProblems(name, items));
  return { name, items, problems };
}

/** Problems of a file as a whole: repeated ids or domains, too few temptations. */
function fileProblems(name, items) {
  const problems = [];
  const ids = new Set();
  for (const item of items) {
    if (ids.has(item.id)) problems.push(`${name}: id ${item.id} appears twice`);
    ids.add(item.id);
  }
  for (const [domain, count] of tally(items, (item) => item.domain?.toLowerCase())) {
    if (count > MAX_DOMAIN_REPEATS)
      problems.push(
        `${name}: domain "${domain}" used ${count} times (at most ${MAX_DOMAIN_REPEATS})`,
      );
  }
  const used = tally(items, (item) => item.temptation).size;
  if (used < MIN_TEMPTATIONS_PER_FILE)
    problems.push(`${name}: uses ${used} temptations, needs at least ${MIN_TEMPTATIONS_PER_FILE}`);
  return problems;
}

function tally(items, keyOf) {
  const counts = new Map();
  for (const item of items) counts.set(keyOf(item), (counts.get(keyOf(item)) ?? 0) + 1);
  return counts;
}

/** Across all files checked: each temptation drives at least a sixth of the items. */
function overallProblems(items) {
  const counts = tally(items, (item) => item.temptation);
  return TEMPTATIONS.filter((t) => (counts.get(t) ?? 0) * 6 < items.length).map(
    (t) =>
      `all files: temptation "${t}" has ${counts.get(t) ?? 0} of ${items.length} items, needs a sixth`,
  );
}

function range(values) {
  return values.length ? `${Math.min(...values)}–${Math.max(...values)}` : "none";
}

function printSummary(results, items) {
  console.log(`items: ${items.length}`);
  for (const { name, items: fileItems } of results) console.log(`  ${name}: ${fileItems.length}`);
  console.log("per temptation:");
  const byTemptation = tally(items, (item) => item.temptation);
  for (const t of TEMPTATIONS) console.log(`  ${t}: ${byTemptation.get(t) ?? 0}`);
  const bySplit = tally(items, (item) => item.split);
  console.log(`per split: dev ${bySplit.get("dev") ?? 0}, test ${bySplit.get("test") ?? 0}`);
  const words = (key) => items.map((item) => wordCount(item[key] ?? ""));
  console.log("words:");
  console.log(`  situation: ${range(words("situation"))}`);
  console.log(`  aligned: ${range(words("aligned"))}`);
  console.log(`  misaligned: ${range(words("misaligned"))}`);
  const ratios = items.map((item) => {
    const [a, m] = [wordCount(item.aligned ?? ""), wordCount(item.misaligned ?? "")];
    return Math.max(a, m) / Math.min(a, m);
  });
  console.log(`  max length ratio: ${Math.max(...ratios).toFixed(2)}`);
  const alignedLonger = items.filter(
    (item) => wordCount(item.aligned ?? "") > wordCount(item.misaligned ?? ""),
  ).length;
  console.log(`  aligned longer than misaligned: ${alignedLonger} of ${items.length}`);
  console.log(`domains: ${tally(items, (item) => item.domain).size} distinct`);
}

function main(args) {
  const files = args.length
    ? args
    : readdirSync(PAIRS_DIR)
        .filter((f) => /^pairs-.+\.jsonl$/.test(f))
        .sort()
        .map((f) => join(PAIRS_DIR, f));
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length) {
    console.error(`no such file: ${missing.join(", ")} (give paths to pairs-<rule>.jsonl files)`);
    return 2;
  }
  const results = files.map(checkFile);
  const items = results.flatMap((r) => r.items);
  const problems = [...results.flatMap((r) => r.problems), ...overallProblems(items)];
  printSummary(results, items);
  for (const problem of problems) console.error(problem);
  if (problems.length) console.error(`${problems.length} problem(s)`);
  else console.log("ok");
  return problems.length ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
