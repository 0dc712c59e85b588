/**
 * Multiple-choice items from a user's file: JSONL (one item a line) or a `.json` array, in our
 * own layout or one of the layouts published benchmarks are commonly exported in (see
 * `scenarios/mcq/README.md`). Every item is checked as it is read, and a bad one is an error
 * naming its file and line, so a user can point the task at their own file without code.
 */
import { basename, extname } from "node:path";
import { fileURLToPath } from "node:url";
import { SpecsciError } from "../../core/errors.js";
import { readUserFile } from "../../core/fs.js";
import { sha256Hex } from "../../core/hash.js";
import { parseJsonl } from "../../core/jsonl.js";

export const MCQ_DIR = fileURLToPath(new URL("../../../scenarios/mcq/", import.meta.url));
export const SAMPLE_FILE = `${MCQ_DIR}sample.jsonl`;

/** Options are lettered A–Z, so an item has at most 26. */
export const LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

export interface McqItem {
  /** Unique within the file: the item's own `id`, else `<file stem>-<line>`. */
  id: string;
  question: string;
  choices: string[];
  /** 0-based index of the correct choice. */
  answer: number;
  subject?: string;
  split?: string;
  /** Its line (JSONL), or its position in a `.json` array (from 1). */
  line: number;
  /** `path:line` (or `path item N` in a `.json` array), for messages. */
  where: string;
}

export interface McqFile {
  /** The file's name (no folder): what the run records, so a moved file is the same data. */
  name: string;
  sha256: string;
  items: McqItem[];
}

const FORMAT_HINT =
  'each item needs "question", "choices" (a list of texts) and "answer" (a 0-based index, a letter or the text of a choice); see scenarios/mcq/README.md for the accepted layouts';

/**
 * Reads one data file whole (once: its hash and its items come from the same bytes). `hint`: what
 * to say when the file is missing (where relative paths were taken from).
 */
export function loadMcqFile(path: string, hint = "check the path"): McqFile {
  const text = readUserFile(path, "multiple-choice data file", { from: "mcq data", hint });
  const name = basename(path);
  const stem = basename(path, extname(path));
  const records =
    extname(path).toLowerCase() === ".json"
      ? jsonArray(text, path)
      : parseJsonl(text, path, FORMAT_HINT).map((r) => ({
          where: `${path}:${r.line}`,
          n: r.line,
          value: r.value,
        }));
  if (records.length === 0) throw new SpecsciError(`${path}: no items`, { hint: FORMAT_HINT });
  const items = records.map((r) => toItem(r.value, r.where, r.n, `${stem}-${r.n}`));
  checkUniqueIds(items);
  return { name, sha256: sha256Hex(text), items };
}

interface RawRecord {
  where: string;
  /** Line (JSONL) or 1-based position (JSON array): the default id. */
  n: number;
  value: Record<string, unknown>;
}

function jsonArray(text: string, path: string): RawRecord[] {
  let v: unknown;
  try {
    v = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (e) {
    throw new SpecsciError(`${path}: not JSON (${(e as Error).message})`, {
      hint: "a .json data file holds one array of items; use .jsonl for one item a line",
    });
  }
  if (!Array.isArray(v))
    throw new SpecsciError(`${path}: a .json data file must hold an array of items`, {
      hint: "use .jsonl for one item a line",
    });
  return v.map((value, i) => {
    const where = `${path} item ${i + 1}`;
    if (!value || typeof value !== "object" || Array.isArray(value))
      throw new SpecsciError(`${where}: each item must be a JSON object`, { hint: FORMAT_HINT });
    return { where, n: i + 1, value: value as Record<string, unknown> };
  });
}

function bad(where: string, problem: string): SpecsciError {
  return new SpecsciError(`${where}: ${problem}`, { hint: FORMAT_HINT });
}

const isText = (v: unknown): v is string => typeof v === "string" && v.trim() !== "";

function optionalText(o: Record<string, unknown>, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!isText(v)) throw bad(where, `"${key}" must be a non-empty string`);
  return v;
}

/** One record as an item, whatever its layout. */
function toItem(
  o: Record<string, unknown>,
  where: string,
  line: number,
  defaultId: string,
): McqItem {
  if (!isText(o.question)) throw bad(where, 'missing "question" (a non-empty string)');
  const { choices, labels } = choicesOf(o, where);
  if (choices.length < 2)
    throw bad(where, `has ${choices.length} choice(s); an item needs at least 2`);
  if (choices.length > LETTERS.length)
    throw bad(
      where,
      `has ${choices.length} choices; at most ${LETTERS.length} (A–Z) can be lettered`,
    );
  const raw = o.answer ?? o.answerKey;
  if (raw === undefined || raw === null)
    throw bad(where, 'missing "answer" (or ARC\'s "answerKey")');
  const answer = answerIndex(raw, choices, labels, where);
  const id = o.id ?? defaultId;
  if (!(isText(id) || (typeof id === "number" && Number.isFinite(id))))
    throw bad(where, '"id" must be a non-empty string or a number');
  const subject = optionalText(o, "subject", where) ?? optionalText(o, "category", where);
  const split = optionalText(o, "split", where);
  return {
    id: String(id),
    question: o.question,
    choices,
    answer,
    ...(subject !== undefined ? { subject } : {}),
    ...(split !== undefined ? { split } : {}),
    line,
    where,
  };
}

/**
 * The choices of a record, by layout: a list (`choices: [...]`, ours and MMLU's), ARC's
 * `choices: {text: [...], label: [...]}`, or one field per letter (`A`, `B`, … from A on).
 */
function choicesOf(
  o: Record<string, unknown>,
  where: string,
): { choices: string[]; labels?: string[] } {
  const c = o.choices;
  if (Array.isArray(c)) return { choices: c.map((x, i) => choiceText(x, i, where)) };
  if (c && typeof c === "object") {
    const { text, label } = c as { text?: unknown; label?: unknown };
    if (!Array.isArray(text) || !Array.isArray(label))
      throw bad(where, '"choices" as an object must be ARC\'s {"text": [...], "label": [...]}');
    if (text.length !== label.length)
      throw bad(where, `"choices" has ${text.length} texts but ${label.length} labels`);
    return {
      choices: text.map((x, i) => choiceText(x, i, where)),
      labels: label.map((l) => String(l)),
    };
  }
  if (c !== undefined) throw bad(where, '"choices" must be a list of texts');
  const flat: string[] = [];
  for (const letter of LETTERS) {
    if (o[letter] === undefined) break;
    flat.push(choiceText(o[letter], flat.length, where, `"${letter}"`));
  }
  if (flat.length === 0) throw bad(where, 'missing "choices" (or fields "A", "B", …)');
  return { choices: flat };
}

/** A choice's text; numbers are taken as their decimal text (numeric answer options). */
function choiceText(x: unknown, i: number, where: string, name = `choice ${i + 1}`): string {
  if (typeof x === "number" && Number.isFinite(x)) return String(x);
  if (!isText(x)) throw bad(where, `${name} must be a non-empty text`);
  return x;
}

/**
 * The correct choice's index from an answer given as a 0-based index, a letter (A = the first
 * choice), ARC's label, or the text of a choice. A lone capital letter that is also the text of
 * another choice is refused rather than guessed at.
 */
function answerIndex(
  raw: unknown,
  choices: string[],
  labels: string[] | undefined,
  where: string,
): number {
  const n = choices.length;
  const range = `${n} choices (A–${LETTERS[n - 1]}, or 0–${n - 1})`;
  if (typeof raw === "number") {
    if (Number.isInteger(raw) && raw >= 0 && raw < n) return raw;
    throw bad(where, `answer ${raw} is not among the ${range}`);
  }
  if (typeof raw !== "string" || raw.trim() === "")
    throw bad(where, '"answer" must be an index, a letter or the text of a choice');
  const a = raw.trim();
  if (labels) {
    const i = labels.indexOf(a);
    if (i < 0) throw bad(where, `answerKey "${a}" is not among the labels ${labels.join(", ")}`);
    return i;
  }
  const byText = choices.flatMap((c, i) => (c.trim() === a ? [i] : []));
  if (/^[A-Z]$/.test(a)) {
    const i = LETTERS.indexOf(a);
    if (byText.some((t) => t !== i))
      throw bad(
        where,
        `answer "${a}" is both a letter and the text of choice ${(byText[0] as number) + 1}; give the answer as a 0-based index`,
      );
    if (i < n) return i;
    throw bad(where, `answer "${a}" is not among the ${range}`);
  }
  if (byText.length === 1) return byText[0] as number;
  if (byText.length > 1)
    throw bad(where, `answer "${a}" matches ${byText.length} choices; give it as a 0-based index`);
  throw bad(where, `answer "${a}" is not among the choices (nor a letter or index of one)`);
}

/** Ids are sample ids: unique within a file, and across the files of one task. */
export function checkUniqueIds(items: McqItem[]): void {
  const seen = new Map<string, string>();
  for (const item of items) {
    const first = seen.get(item.id);
    if (first !== undefined)
      throw new SpecsciError(`${item.where}: duplicate id "${item.id}" (first at ${first})`, {
        hint: "give every item its own id, or leave ids out (items are then named by line)",
      });
    seen.set(item.id, item.where);
  }
}
