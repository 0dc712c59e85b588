import { relative } from "node:path";
import { stringsIn } from "../data/contamination.js";
import { loadPack, PACK_DIR } from "../evals/am/pack.js";

/** The evaluation texts a training set is checked against: every string of the scenario pack. */
export function scenarioPackTexts(): { texts: string[]; source: string } {
  const pack = loadPack();
  const rel = relative(process.cwd(), PACK_DIR);
  return {
    texts: stringsIn([pack.pack, pack.families]),
    source: `scenario pack ${rel.startsWith("..") ? PACK_DIR : rel}`,
  };
}
