export type Severity = "error" | "warning";

/** A problem found in a spec, at a 1-based position in its file. */
export interface Diagnostic {
  line: number;
  column: number;
  severity: Severity;
  /** Stable name of the check, e.g. `duplicate-id`. */
  code: string;
  message: string;
}

/** `file:line:col: severity: message (code)`, the form editors and CI logs understand. */
export function formatDiagnostic(file: string, d: Diagnostic): string {
  return `${file}:${d.line}:${d.column}: ${d.severity}: ${d.message} (${d.code})`;
}
