/**
 * From generated documents to the candidates for the corpus: the gates recorded with each
 * document, the relevance gate and the judge's thresholds (applied here, so changing them needs
 * no regeneration), exact and near dedup, and the contamination check. Pure apart from dedup's
 * worker threads; the same documents always give the same result.
 */

import type { ItemRow } from "../../store/index.js";
import { type ContaminationIndex, overlapWith } from "../contamination.js";
import type { DedupResult } from "../dedup/index.js";
import { findDuplicates } from "../dedup/index.js";
import type { MsmConfig } from "./config.js";
import type { DocumentRecord, JudgeRecord } from "./documents.js";
import { GATES, type GateName, isRelevant, type RelevanceContext } from "./gates.js";
import type { Idea } from "./tree.js";

/** A document of the corpus with where it came from. */
export interface CorpusDocument {
  key: string;
  idea: Idea;
  record: DocumentRecord;
  judge: JudgeRecord | null;
}

export interface Screened {
  /** Documents generated (answered, whether kept or gated). */
  generated: number;
  gates: Record<GateName, number>;
  truncatedOnce: number;
  regenerated: number;
  dedup: DedupResult;
  contaminated: { id: string; ngrams: string[] }[];
  /** What passed everything (contaminated documents too, unless the check is enforced). */
  clean: CorpusDocument[];
}

export interface ScreenInput {
  config: MsmConfig;
  /** The tree's document rows, in key order. */
  rows: ItemRow[];
  ideaOf: (docKey: string) => Idea;
  judgeOf: (docKey: string) => ItemRow | undefined;
  relevance: RelevanceContext | null;
  contamination: ContaminationIndex | undefined;
}

export async function screenDocuments(s: ScreenInput): Promise<Screened> {
  const { config } = s;
  const judgeCfg = config.gates.judge;
  const gates = Object.fromEntries(GATES.map((g) => [g, 0])) as Record<GateName, number>;
  const passed: CorpusDocument[] = [];
  let truncatedOnce = 0;
  let regenerated = 0;
  let generated = 0;
  for (const r of s.rows) {
    if (r.status !== "ok") continue;
    generated++;
    const rec = r.value as DocumentRecord;
    if (rec.truncated_once) {
      truncatedOnce++;
      if (rec.gate !== "truncated") regenerated++;
    }
    if (rec.gate) {
      gates[rec.gate]++;
      continue;
    }
    if (s.relevance && !isRelevant(rec.content as string, s.relevance)) {
      gates.off_topic++;
      continue;
    }
    let judge: JudgeRecord | null = null;
    if (judgeCfg) {
      const j = s.judgeOf(r.key);
      if (j?.status !== "ok") {
        gates.judge_failed++;
        continue;
      }
      judge = j.value as JudgeRecord;
      if (judge.realism < judgeCfg.min_realism || judge.faithfulness < judgeCfg.min_faithfulness) {
        gates.judge_rejected++;
        continue;
      }
    }
    passed.push({ key: r.key, idea: s.ideaOf(r.key), record: rec, judge });
  }
  const near = config.dedup.near;
  const dedup = await findDuplicates(
    passed.map((d) => ({ id: d.key, text: d.record.content as string })),
    {
      exact: config.dedup.exact,
      near:
        near === false
          ? false
          : {
              threshold: near.threshold,
              numPerm: near.num_perm,
              shingle: near.shingle,
              seed: config.seed,
            },
    },
  );
  const dup = new Set(dedup.duplicates.map((d) => d.id));
  const contaminated: { id: string; ngrams: string[] }[] = [];
  const clean = passed.filter((d) => {
    if (dup.has(d.key)) return false;
    if (!s.contamination) return true;
    const ov = overlapWith(d.record.content as string, s.contamination);
    if (ov.count === 0) return true;
    contaminated.push({ id: d.key, ngrams: ov.examples });
    return !config.contamination.enforce;
  });
  return { generated, gates, truncatedOnce, regenerated, dedup, contaminated, clean };
}
