import {
  explanationOf,
  rulesOf,
  type Spec,
  type SpecNode,
  sectionsOf,
  subrulesOf,
} from "./model.js";
import { renderSpecBody } from "./render.js";
import { getTokenizer, type TokenizerName } from "./tokens.js";

export interface SpecStats {
  words: number;
  characters: number;
  sections: number;
  rules: number;
  subrules: number;
  /** Words of rule statements and subrules. */
  ruleWords: number;
  /** Words of prose: preamble, section prose and rule explanations. */
  explanationWords: number;
  /** explanationWords / (ruleWords + explanationWords); 0 for an empty spec. */
  explanationShare: number;
  /** Tokens of the spec as a model sees it (Markdown without front matter). */
  tokens: Partial<Record<TokenizerName, number>>;
}

const wordsIn = (text: string) => text.split(/\s+/).filter(Boolean).length;

export function specStats(
  spec: Spec,
  tokenizers: TokenizerName[] = ["qwen3", "gpt-o200k"],
): SpecStats {
  const rules = rulesOf(spec);
  let ruleWords = 0;
  for (const r of rules) {
    ruleWords += wordsIn(r.title);
    for (const s of subrulesOf(r)) ruleWords += wordsIn(s.text);
  }
  let explanationWords = 0;
  const prose = (nodes: SpecNode[]) => {
    for (const n of nodes) {
      if (n.kind === "section") prose(n.body);
      else if (n.kind === "rule")
        for (const b of explanationOf(n)) explanationWords += wordsIn(b.text);
      else explanationWords += wordsIn(n.text);
    }
  };
  prose(spec.body);
  const headings =
    wordsIn(spec.title ?? "") + sectionsOf(spec).reduce((k, s) => k + wordsIn(s.title), 0);
  const body = renderSpecBody(spec);
  const tokens: Partial<Record<TokenizerName, number>> = {};
  for (const name of tokenizers) tokens[name] = getTokenizer(name).count(body);
  const counted = ruleWords + explanationWords;
  return {
    words: counted + headings + rules.reduce((k, r) => k + wordsIn(r.id), 0),
    characters: body.length,
    sections: sectionsOf(spec).length,
    rules: rules.length,
    subrules: rules.reduce((k, r) => k + subrulesOf(r).length, 0),
    ruleWords,
    explanationWords,
    explanationShare: counted === 0 ? 0 : explanationWords / counted,
    tokens,
  };
}
