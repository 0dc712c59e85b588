/** The tokenizers specsci counts with, by name: apart from the tokenizers, which are slow to load. */
export const TOKENIZERS = ["qwen3", "gpt-o200k", "qwen2.5", "llama3", "gemma3"] as const;
export type TokenizerName = (typeof TOKENIZERS)[number];

export function isTokenizerName(name: string): name is TokenizerName {
  return (TOKENIZERS as readonly string[]).includes(name);
}
