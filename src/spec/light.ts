/**
 * The part of spec's public surface that loads nothing else: the names and checks the CLI's
 * command tree declares (transforms, tokenizers, `--set` values) before any command runs. All of
 * it is in `index.ts` too.
 */
export { placeholderValueProblem } from "./placeholders.js";
export { isTokenizerName, TOKENIZERS, type TokenizerName } from "./tokenizer-names.js";
export {
  isTransformName,
  RICHNESS_STEP_KEYS,
  TRANSFORMS,
  type TransformName,
} from "./transforms/catalog.js";
