/**
 * Human annotations of transcripts (stored by `store.annotations`): the categories an annotator
 * picks from, the JSONL the reasoning analysis reads, agreement of the judge and the labeller with
 * the humans, and the order transcripts are offered in.
 */
export {
  type AnnotatorAgreement,
  annotationAgreement,
  type JudgeHumanAgreement,
  judgeHumanAgreement,
  type LabellerHumanAgreement,
  labellerHumanAgreement,
} from "./agreement.js";
export {
  annotationTaxonomy,
  exportHumanLabels,
  type HumanLabelExport,
  humanCategories,
  humanLabelsOf,
} from "./labels.js";
export {
  type AnnotationQueue,
  annotationQueue,
  type QueueItem,
  type QueueOptions,
  type QueueStratum,
  type QueueVerdict,
  type Stratifier,
} from "./queue.js";
