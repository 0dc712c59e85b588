import { amDefinition } from "../../evals/am/definition.js";
import type { FieldRow, Store } from "../../store/index.js";

const DECIDED = { decided: amDefinition.fields.decided as string };

/**
 * The AM misalignment judge's `decided` (1, 0, or null without a verdict) of a run's samples, or
 * of the ones `only` names: the one field read, in SQL, so a 200,000-sample store stays quick.
 */
export const judgeDecisions = (
  store: Store,
  runId: string,
  only?: { sampleId: string; epoch: number }[],
): FieldRow[] => store.evals.fieldRows(runId, DECIDED, only);
