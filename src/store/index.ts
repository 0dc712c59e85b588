/** store's public surface: the run store and the records it holds; tables and migrations stay inside. */
export {
  type Annotation,
  type AnnotationEvent,
  type AnnotationFilter,
  type AnnotationInput,
  type AnnotationKey,
  type AnnotationTaxonomy,
  TRISTATE,
  type Tristate,
} from "./annotations.js";
export {
  copyStore,
  type StoreCopyOptions,
  type StoreCopyReport,
  type StoreTableCheck,
} from "./copy.js";
export { DB_FILE_NAME, damagedStore, damagedStoreError, Store } from "./db.js";
export type {
  EvalRunRow,
  EvalSampleRecord,
  FieldRow,
  SampleStatus,
  StatusCounts,
} from "./eval-tables.js";
export type { ItemRow } from "./item-tables.js";
export type {
  BatchItemRow,
  BatchItemStatus,
  BatchJobRow,
  BatchJobStatus,
  CacheRow,
  CallRecord,
  SampleCallRow,
  UsageRow,
} from "./llm-tables.js";
export { SCHEMA_VERSION } from "./migrations.js";
export type { RunRecord, RunStatus } from "./runs.js";
export type { TrainStageRow, TrainStageStatus } from "./train-tables.js";
