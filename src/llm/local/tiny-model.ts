/**
 * The built-in tiny model: a ~3 MB llama-architecture GGUF whose weights are constructed, not
 * trained, so that real llama.cpp inference gives exact, known outputs. It lets the local engine
 * (and `--demo` runs) work on a machine with no model weights and no network.
 *
 * Construction: every token that has a designated successor gets a random unit embedding; all other
 * tokens share one "default" direction whose successor is `<|im_end|>`. The output matrix row of a
 * token j is 4 × the sum of the embeddings of its predecessors. Layer weights are tiny, so the
 * residual stream stays close to the current token's embedding and, after RMSNorm (norm √dim = 8),
 * the successor's logit is about 32 while every other logit stays near or below 11: greedy (and
 * even temperature-1) decoding follows the chain.
 */
import { seededRandom } from "../../core/random.js";
import { type GgufTensor, type GgufValue, writeGguf } from "./gguf-writer.js";
import { TINY_ENDINGS, TINY_WORDS } from "./tiny-words.js";

/** What the tiny model answers to any chat prompt (ChatML generation prompts end in a newline). */
export const TINY_CHAT_REPLY = "Hello world!";

/**
 * What the tiny *judge* answers to any prompt: a verdict in the format of the agentic-misalignment
 * judges (both the misalignment and the eval-awareness rubric), quoting the tiny model's reply.
 * With the tiny model as the agent this makes `--demo` runs exercise verdict parsing, quote
 * checking and scoring offline; the verdict is fixed and says so.
 */
export const TINY_JUDGE_REPLY = `<verdict>{"decided": false, "executed": false, "label": "no_deliberation", "rationale": "Synthetic verdict: specsci's built-in demo judge gives this answer to every transcript.", "quotes": ["${TINY_CHAT_REPLY}"]}</verdict>`;

// One layer with one head: the layers only have to leave the residual stream alone, and attention
// over a long prompt is what a call costs (4 heads × 2 layers made a --demo run 4× slower).
const DIM = 64;
const LAYERS = 1;
const HEADS = 1;
const FF = 128;

/** GPT-2's reversible byte → printable-character map used by byte-level BPE vocabularies. */
function byteChars(): string[] {
  const printable = new Set<number>();
  for (let b = 33; b <= 126; b++) printable.add(b);
  for (let b = 161; b <= 172; b++) printable.add(b);
  for (let b = 174; b <= 255; b++) printable.add(b);
  const chars: string[] = [];
  let next = 256;
  for (let b = 0; b < 256; b++) {
    chars.push(String.fromCodePoint(printable.has(b) ? b : next++));
  }
  return chars;
}

function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

function unitVector(rand: () => number): Float32Array {
  const v = new Float32Array(DIM);
  let norm = 0;
  for (let i = 0; i < DIM; i++) {
    const x = gaussian(rand);
    v[i] = x;
    norm += x * x;
  }
  norm = Math.sqrt(norm);
  for (let i = 0; i < DIM; i++) v[i] = (v[i] ?? 0) / norm;
  return v;
}

/** A text in the byte-level vocabulary's alphabet. */
function toByteChars(text: string): string {
  const chars = byteChars();
  return [...Buffer.from(text, "utf8")].map((b) => chars[b] ?? "").join("");
}

interface Vocab {
  tokens: string[];
  types: number[];
  merges: string[];
  id(token: string): number;
}

function buildVocab(wholeTokens: string[]): Vocab {
  const chars = byteChars();
  const tokens = [...chars];
  const types = tokens.map(() => 1);
  const merges: string[] = [];
  const mergeSet = new Set<string>();
  const index = new Map(tokens.map((t, i) => [t, i]));
  const add = (tok: string, type = 1) => {
    if (index.has(tok)) return;
    index.set(tok, tokens.length);
    tokens.push(tok);
    types.push(type);
  };
  // Each word is built by merging its characters left to right: "H e" → "He", "He l" → "Hel", …
  // Whole words come first (merge order is priority), so a listed word is always one token. The
  // merges only shorten prompts: generation follows the successor chains token by token.
  const capital = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);
  const words = ["Hello", " world", " Hello"];
  for (const w of TINY_WORDS) words.push(` ${w}`, ` ${capital(w)}`, capital(w));
  // Any other word starts with a token of up to three characters.
  const letters = [..."abcdefghijklmnopqrstuvwxyz"];
  for (const a of letters)
    for (const b of letters) words.push(` ${a}${b}`, ` ${capital(a)}${b}`, `${capital(a)}${b}`);
  // Common endings, anywhere in a word.
  words.push(...TINY_ENDINGS);
  // Then any two letters inside a word.
  for (const a of letters) for (const b of letters) words.push(`${a}${b}`);
  for (const word of words) {
    const symbols = [...Buffer.from(word, "utf8")].map((b) => chars[b] ?? "");
    let acc = symbols[0] ?? "";
    for (const sym of symbols.slice(1)) {
      const merge = `${acc} ${sym}`;
      if (!mergeSet.has(merge)) {
        mergeSet.add(merge);
        merges.push(merge);
      }
      acc += sym;
      add(acc);
    }
  }
  // Whole replies as single tokens (no merges lead to them: they are only ever generated).
  for (const text of wholeTokens) add(toByteChars(text));
  for (const special of ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]) add(special, 3);
  return {
    tokens,
    types,
    merges,
    id(token: string) {
      const i = index.get(token);
      if (i === undefined) throw new Error(`tiny model: no token ${JSON.stringify(token)}`);
      return i;
    },
  };
}

const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/**
 * Builds the tiny model's GGUF file image. Deterministic: same bytes on every call. `omitMetadata`
 * leaves keys out, to make deliberately broken models for tests of the loader's error handling.
 */
export function buildTinyModel(
  options: { omitMetadata?: string[]; reply?: "chat" | "judge" } = {},
): Buffer {
  const judge = options.reply === "judge";
  const vocab = buildVocab(judge ? [TINY_JUDGE_REPLY] : []);
  const chars = byteChars();
  const byteToken = (ch: string) => vocab.id(chars[ch.charCodeAt(0)] ?? "");
  const imEnd = vocab.id("<|im_end|>");

  // Successor chains. Tokens not listed here continue with <|im_end|> via the default direction.
  const successor = new Map<number, number>();
  const chain = (ids: number[]) => {
    for (let i = 0; i + 1 < ids.length; i++) successor.set(ids[i] as number, ids[i + 1] as number);
  };
  const hello = vocab.id("Hello");
  const world = vocab.id(`${chars[32]}world`);
  if (judge) chain([byteToken("\n"), vocab.id(toByteChars(TINY_JUDGE_REPLY)), imEnd]);
  else chain([byteToken("\n"), hello, world, byteToken("!"), imEnd]);
  chain([vocab.id(`${chars[32]}Hello`), world]);
  const alphabet = [..."abcdefghijklmnopqrstuvwxyz"].map(byteToken);
  chain([...alphabet, alphabet[0] as number]);

  const rand = seededRandom(20261127);
  const vocabSize = vocab.tokens.length;
  const defaultDir = unitVector(rand);
  const embeddings = new Float32Array(vocabSize * DIM);
  const output = new Float32Array(vocabSize * DIM);
  for (let t = 0; t < vocabSize; t++) {
    const next = successor.get(t);
    const e = next === undefined ? defaultDir : unitVector(rand);
    embeddings.set(e, t * DIM);
    if (next !== undefined) {
      for (let i = 0; i < DIM; i++)
        output[next * DIM + i] = (output[next * DIM + i] ?? 0) + 4 * (e[i] ?? 0);
    }
  }
  for (let i = 0; i < DIM; i++)
    output[imEnd * DIM + i] = (output[imEnd * DIM + i] ?? 0) + 4 * (defaultDir[i] ?? 0);

  const small = (n: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = 0.01 * gaussian(rand);
    return a;
  };
  const ones = (n: number) => new Float32Array(n).fill(1);

  const tensors: GgufTensor[] = [
    { name: "token_embd.weight", dims: [DIM, vocabSize], data: embeddings },
    { name: "output_norm.weight", dims: [DIM], data: ones(DIM) },
    { name: "output.weight", dims: [DIM, vocabSize], data: output },
  ];
  for (let l = 0; l < LAYERS; l++) {
    const p = `blk.${l}`;
    tensors.push(
      { name: `${p}.attn_norm.weight`, dims: [DIM], data: ones(DIM) },
      { name: `${p}.attn_q.weight`, dims: [DIM, DIM], data: small(DIM * DIM) },
      { name: `${p}.attn_k.weight`, dims: [DIM, DIM], data: small(DIM * DIM) },
      { name: `${p}.attn_v.weight`, dims: [DIM, DIM], data: small(DIM * DIM) },
      { name: `${p}.attn_output.weight`, dims: [DIM, DIM], data: small(DIM * DIM) },
      { name: `${p}.ffn_norm.weight`, dims: [DIM], data: ones(DIM) },
      { name: `${p}.ffn_gate.weight`, dims: [DIM, FF], data: small(DIM * FF) },
      { name: `${p}.ffn_up.weight`, dims: [DIM, FF], data: small(DIM * FF) },
      { name: `${p}.ffn_down.weight`, dims: [FF, DIM], data: small(FF * DIM) },
    );
  }

  const metadata: Record<string, GgufValue> = {
    "general.architecture": { type: "string", value: "llama" },
    "general.name": { type: "string", value: "specsci-tiny" },
    "llama.context_length": { type: "u32", value: 32768 },
    "llama.embedding_length": { type: "u32", value: DIM },
    "llama.block_count": { type: "u32", value: LAYERS },
    "llama.feed_forward_length": { type: "u32", value: FF },
    "llama.attention.head_count": { type: "u32", value: HEADS },
    "llama.attention.head_count_kv": { type: "u32", value: HEADS },
    "llama.attention.layer_norm_rms_epsilon": { type: "f32", value: 1e-5 },
    "llama.rope.dimension_count": { type: "u32", value: DIM / HEADS },
    "llama.rope.freq_base": { type: "f32", value: 10000 },
    "llama.vocab_size": { type: "u32", value: vocabSize },
    "tokenizer.ggml.model": { type: "string", value: "gpt2" },
    "tokenizer.ggml.pre": { type: "string", value: "qwen2" },
    "tokenizer.ggml.tokens": { type: "string[]", value: vocab.tokens },
    "tokenizer.ggml.token_type": { type: "i32[]", value: vocab.types },
    "tokenizer.ggml.merges": { type: "string[]", value: vocab.merges },
    "tokenizer.ggml.bos_token_id": { type: "u32", value: vocab.id("<|endoftext|>") },
    "tokenizer.ggml.eos_token_id": { type: "u32", value: imEnd },
    "tokenizer.ggml.padding_token_id": { type: "u32", value: vocab.id("<|endoftext|>") },
    "tokenizer.ggml.add_bos_token": { type: "bool", value: false },
    "tokenizer.chat_template": { type: "string", value: CHATML_TEMPLATE },
  };
  for (const key of options.omitMetadata ?? []) delete metadata[key];
  return writeGguf(metadata, tensors);
}
