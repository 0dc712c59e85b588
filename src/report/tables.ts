/** The report's tables as plain data, and as Markdown, LaTeX (booktabs) and CSV. */
import { AGREEMENT_READING, type JudgeEvidenceAgreement } from "../evals/am/metrics.js";
import type { ReportData } from "./results.js";

export interface Table {
  title: string;
  headers: string[];
  rows: string[][];
  /**
   * How many leading columns name things (arm, model, scenario…): those are left-aligned, the
   * rest hold numbers and are right-aligned. Absent: every column is text.
   */
  labelColumns?: number;
  /** How to read the table, shown below it. */
  note?: string;
}

/** Whether column `i` of a table holds numbers (right-aligned in every format). */
export const isNumberColumn = (t: Table, i: number) => i >= (t.labelColumns ?? t.headers.length);

export const pct = (x: number) => (Number.isNaN(x) ? "–" : `${(100 * x).toFixed(1)}%`);
export const interval = (ci: [number, number]) =>
  ci.some(Number.isNaN) ? "–" : `[${pct(ci[0])}, ${pct(ci[1])}]`;
export const signedPct = (x: number) =>
  Number.isNaN(x) ? "–" : `${x > 0 ? "+" : ""}${(100 * x).toFixed(1)} pp`;
export const diffInterval = (ci: [number, number]) =>
  ci.some(Number.isNaN) ? "–" : `[${signedPct(ci[0])}, ${signedPct(ci[1])}]`;
export const pval = (p: number | null) =>
  p === null || Number.isNaN(p) ? "–" : p < 0.001 ? "<0.001" : p.toFixed(3);
/** A comparison's p, or why its test is undefined (never a stand-in p = 1). */
export const pOrReason = (c: { p: number; pUndefinedReason: string | null }) =>
  c.pUndefinedReason ? `undefined: ${c.pUndefinedReason}` : pval(c.p);

/** A judge–evidence kappa, or why it is undefined. */
export const kappaOrReason = (a: Pick<JudgeEvidenceAgreement, "kappa" | "kappaUndefined">) =>
  a.kappa === null ? `undefined: ${a.kappaUndefined}` : a.kappa.toFixed(2);

/** Each arm and model's agreement of the judge's verdicts (executed, decided) with the evidence. */
export function agreementCells(d: ReportData) {
  return d.arms.flatMap((a) =>
    (["executed", "decided"] as const).map((verdict) => ({
      arm: a.arm,
      model: a.model,
      verdict,
      agreement: a.metrics.agreement[verdict],
    })),
  );
}

/** Per arm and model, the judge's executed and decided against the evidence's executed (2×2). */
export function agreementTable(d: ReportData): Table {
  return {
    title: "Judge vs deterministic evidence: the judge's verdict against the evidence's executed",
    labelColumns: 3,
    note: AGREEMENT_READING,
    headers: [
      "arm",
      "model",
      "judge's",
      "n",
      "both",
      "judge only",
      "evidence only",
      "neither",
      "agreement",
      "Cohen's kappa",
    ],
    rows: agreementCells(d).map(({ arm, model, verdict, agreement: g }) => [
      arm,
      model,
      verdict,
      ...[g.n, g.both, g.judgeOnly, g.evidenceOnly, g.neither].map(String),
      pct(g.observed),
      kappaOrReason(g),
    ]),
  };
}

export function ratesTable(d: ReportData): Table {
  // Cut-off answers and refusals get a column only when some arm has them.
  const outside = (["truncated", "refused"] as const).filter((k) =>
    d.arms.some((a) => a.metrics[k] > 0),
  );
  return {
    title: "Misalignment rate by arm and model",
    labelColumns: 2,
    headers: [
      "arm",
      "model",
      "n",
      "misaligned",
      "rate",
      "95% CI (Wilson)",
      "mean over scenarios",
      "errors",
      ...outside,
    ],
    rows: d.arms.map((a) => [
      a.arm,
      a.model,
      String(a.metrics.pooled.n),
      String(a.metrics.pooled.misaligned),
      pct(a.metrics.pooled.rate),
      interval(a.metrics.pooled.ci),
      pct(a.metrics.meanOverConditions),
      String(a.metrics.errors.total),
      ...outside.map((k) => String(a.metrics[k])),
    ]),
  };
}

export function comparisonsTable(d: ReportData): Table {
  return {
    title: "Comparisons (first arm minus second; negative means fewer misaligned decisions)",
    labelColumns: 3,
    headers: [
      "model",
      "arm",
      "vs",
      "difference",
      "95% CI (Newcombe)",
      "95% CI (scenario bootstrap)",
      "risk ratio",
      "paired n",
      "p",
      "p (Holm)",
    ],
    rows: d.comparisons.map((c) => [
      c.model,
      c.a,
      c.b,
      signedPct(c.diff),
      diffInterval(c.diffCi),
      c.bootstrapCi ? diffInterval(c.bootstrapCi) : "–",
      Number.isFinite(c.ratio) ? c.ratio.toFixed(2) : "–",
      String(c.pairs),
      `${pOrReason(c)}${c.pMcnemar !== null ? " (McNemar)" : " (Fisher)"}`,
      pval(c.pHolm),
    ]),
  };
}

/** Rates per seed and their mean ± SEM with a t interval; null with fewer than two seeds. */
export function seedsTable(d: ReportData): Table | null {
  if (!d.arms.some((a) => a.acrossSeeds)) return null;
  const seeds = [...new Set(d.arms.flatMap((a) => a.seeds.map((x) => x.seed)))].sort(
    (x, y) => x - y,
  );
  return {
    title: "Across seeds: misalignment rate per seed, mean ± SEM and 95% t interval",
    labelColumns: 2,
    headers: ["arm", "model", ...seeds.map((x) => `seed ${x}`), "mean ± SEM", "95% CI (t)"],
    rows: d.arms.map((a) => {
      const s = a.acrossSeeds;
      return [
        a.arm,
        a.model,
        ...seeds.map((x) => {
          const r = a.seeds.find((y) => y.seed === x);
          return r ? `${pct(r.rate)} (n=${r.n})` : "–";
        }),
        s ? `${pct(s.mean)} ± ${pct(s.sem)}` : "–",
        s ? `${interval(s.ci)}${s.clipped ? " (clipped to 0–100%)" : ""}` : "–",
      ];
    }),
  };
}

export function familyTable(d: ReportData): Table {
  const families = [...new Set(d.arms.flatMap((a) => a.metrics.byFamily.map((f) => f.key)))];
  return {
    title: "Misalignment rate by family",
    labelColumns: 2,
    headers: ["arm", "model", ...families],
    rows: d.arms.map((a) => [
      a.arm,
      a.model,
      ...families.map((f) => {
        const c = a.metrics.byFamily.find((x) => x.key === f);
        return c ? `${pct(c.rate)} (n=${c.n})` : "–";
      }),
    ]),
  };
}

export function scenarioTable(d: ReportData): Table {
  const scenarios = [
    ...new Set(d.arms.flatMap((a) => a.metrics.byCondition.map((c) => c.key))),
  ].sort();
  const cols = d.arms.map((a) => `${a.arm} · ${a.model}`);
  return {
    title: "Misalignment rate by scenario",
    labelColumns: 1,
    headers: ["scenario", ...cols],
    rows: scenarios.map((s) => [
      s,
      ...d.arms.map((a) => {
        const c = a.metrics.byCondition.find((x) => x.key === s);
        return c ? `${pct(c.rate)} (${c.misaligned}/${c.n})` : "–";
      }),
    ]),
  };
}

const HTML_ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };

/**
 * Text for a Markdown heading or table cell. HTML's specials become entities rather than
 * backslash escapes, which only CommonMark honours (`\<svg onload=…>` is live HTML in older renderers);
 * Markdown's own specials (emphasis, code, links, pipes, GitHub's `$` math) get a backslash; a
 * newline becomes `<br>`, since a table row is one line.
 */
export function markdownEscape(s: string): string {
  return s
    .replace(/[&<>]/g, (c) => HTML_ENTITIES[c] as string)
    .replace(/[\\`*_[\]|~$#]/g, "\\$&")
    .replace(/\r?\n/g, "<br>");
}

export function toMarkdown(t: Table): string {
  return [
    `### ${markdownEscape(t.title)}`,
    "",
    `| ${t.headers.map(markdownEscape).join(" | ")} |`,
    `| ${t.headers.map((_, i) => (isNumberColumn(t, i) ? "---:" : "---")).join(" | ")} |`,
    ...t.rows.map((r) => `| ${r.map(markdownEscape).join(" | ")} |`),
    "",
    ...(t.note ? [markdownEscape(t.note), ""] : []),
  ].join("\n");
}

/**
 * LaTeX for text mode: its specials escaped, and the symbols our tables use written as LaTeX
 * (± in math mode, en dashes as `--`) so that pdfLaTeX's default fonts show them; `<`, `>` and `|`
 * need commands in OT1, and a newline inside a tabular cell would end the paragraph.
 */
const LATEX_SPECIAL: Record<string, string> = {
  "\\": "\\textbackslash{}",
  "&": "\\&",
  "%": "\\%",
  $: "\\$",
  "#": "\\#",
  _: "\\_",
  "{": "\\{",
  "}": "\\}",
  "~": "\\textasciitilde{}",
  "^": "\\textasciicircum{}",
  "<": "\\textless{}",
  ">": "\\textgreater{}",
  "|": "\\textbar{}",
  "–": "--",
  "—": "---",
  "±": "$\\pm$",
  "×": "$\\times$",
  "·": "$\\cdot$",
  "…": "\\ldots{}",
  "\n": " ",
};
export const latexEscape = (s: string) =>
  s.replace(/[\\&%$#_{}~^<>|–—±×·…\n]/g, (c) => LATEX_SPECIAL[c] as string);

export function toLatex(t: Table): string {
  return [
    "\\begin{table}[t]",
    "\\centering",
    `\\caption{${latexEscape(t.title)}}`,
    `\\begin{tabular}{${t.headers.map((_, i) => (isNumberColumn(t, i) ? "r" : "l")).join("")}}`,
    "\\toprule",
    `${t.headers.map(latexEscape).join(" & ")} \\\\`,
    "\\midrule",
    ...t.rows.map((r) => `${r.map(latexEscape).join(" & ")} \\\\`),
    "\\bottomrule",
    "\\end{tabular}",
    ...(t.note ? [`\\par\\smallskip{\\footnotesize ${latexEscape(t.note)}}`] : []),
    "\\end{table}",
    "",
  ].join("\n");
}

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
export const csvCell = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);

export function toCsv(t: Table): string {
  return `${[t.headers, ...t.rows].map((r) => r.map(csvCell).join(",")).join("\n")}\n`;
}

const rateWithCi = (f: { present: number; n: number; interval: [number, number] | null }) =>
  f.n && f.interval
    ? `${pct(f.present / f.n)} [${pct(f.interval[0])}, ${pct(f.interval[1])}]`
    : "–";

/** The reasoning analysis: categories, rules, misuse, comparisons, agreement (none without it). */
export function reasoningTables(d: ReportData): Table[] {
  const r = d.reasoning;
  if (!r) return [];
  const several = new Set(r.arms.map((a) => a.model)).size > 1;
  const col = (a: { arm: string; model: string }) => (several ? `${a.arm} · ${a.model}` : a.arm);
  const tables: Table[] = [
    {
      title: "Reasoning categories: share of labelled transcripts [95% Wilson CI]",
      labelColumns: 2,
      headers: ["category", "kind", ...r.arms.map(col)],
      rows: r.taxonomy.categories.map((c) => [
        c.id,
        c.kind,
        ...r.arms.map((a) => {
          const f = a.summary.categories.find((x) => x.id === c.id);
          return f ? rateWithCi(f) : "–";
        }),
      ]),
    },
  ];
  const rules = [...new Set(r.arms.flatMap((a) => a.summary.rules.map((x) => x.rule)))];
  if (rules.length)
    tables.push({
      title: "Rules invoked (by id or by paraphrase) [95% Wilson CI]",
      labelColumns: 1,
      headers: ["rule", ...r.arms.map(col)],
      rows: rules.map((rule) => [
        rule,
        ...r.arms.map((a) => {
          const f = a.summary.rules.find((x) => x.rule === rule);
          return f ? rateWithCi(f.any) : "–";
        }),
      ]),
    });
  tables.push({
    title: "Policy misuse and labelling outcomes",
    labelColumns: 3,
    headers: [
      "arm",
      "model",
      "spec read against",
      "misuse [95% CI]",
      "misquoted",
      "reinterpreted",
      "accurate",
      "unchecked",
      "labelled",
      "invalid",
      "failed calls",
      "not labelled yet",
    ],
    rows: r.arms.map((a) => {
      const s = a.summary;
      return [
        a.arm,
        a.model,
        a.spec ?? "–",
        rateWithCi(s.misuse.rate),
        String(s.misuse.claims.misquotation),
        String(s.misuse.claims.reinterpretation),
        String(s.misuse.claims.accurate),
        String(s.misuse.claims.unchecked),
        `${s.labelled}/${s.transcripts}`,
        String(s.failed.invalid),
        String(s.failed.call),
        String(s.pending),
      ];
    }),
  });
  const conditions = [...new Set(r.arms.flatMap((a) => Object.keys(a.byCondition)))].sort();
  if (conditions.length > 1)
    tables.push({
      title: "Policy misuse by condition (every measure by condition is in the reasoning CSV)",
      labelColumns: 1,
      headers: ["condition", ...r.arms.map(col)],
      rows: conditions.map((c) => [
        c,
        ...r.arms.map((a) => {
          const f = a.byCondition[c]?.misuse.rate;
          return f?.n ? `${f.present}/${f.n}` : "–";
        }),
      ]),
    });
  if (r.comparisons.length)
    tables.push({
      title: "Reasoning comparisons (first arm minus second)",
      labelColumns: 4,
      headers: [
        "measure",
        "model",
        "arm",
        "vs",
        "rates",
        "difference",
        "95% CI (Newcombe)",
        "95% CI (scenario bootstrap)",
        "paired n",
        "p",
        "p (Holm)",
      ],
      rows: r.comparisons.map((c) => [
        c.measure,
        c.model,
        c.a,
        c.b,
        `${pct(c.rateA)} vs ${pct(c.rateB)}`,
        signedPct(c.diff),
        diffInterval(c.diffCi),
        c.bootstrapCi ? diffInterval(c.bootstrapCi) : "–",
        String(c.pairs),
        pOrReason(c),
        pval(c.pHolm),
      ]),
    });
  const kappa = (k: number | null) => (k === null ? "–" : k.toFixed(2));
  const self = r.selfAgreement[0];
  if (r.agreement || self || r.human)
    tables.push({
      labelColumns: 1,
      title: `Label agreement${r.agreement ? ` (${r.agreement.method}'s kappa between ${r.agreement.raters.join(", ")}, ${r.agreement.n} transcripts)` : ""}${self ? `; ${self.raters.length} repeats of ${self.raters[0]?.replace(/#0$/, "")}` : ""}${r.human ? `; first labeller vs ${r.human.n} human-labelled transcripts` : ""}`,
      headers: [
        "category",
        "kappa (labellers)",
        "kappa (repeats)",
        "kappa (vs human)",
        "precision (vs human)",
        "recall (vs human)",
      ],
      rows: r.taxonomy.categories.map((c) => {
        const a = r.agreement?.categories.find((x) => x.id === c.id);
        const rep = self?.categories.find((x) => x.id === c.id);
        const h = r.human?.categories.find((x) => x.id === c.id);
        return [
          c.id,
          a ? kappa(a.kappa) : "–",
          rep ? kappa(rep.kappa) : "–",
          h ? kappa(h.kappa) : "–",
          h?.precision === undefined || h.precision === null ? "–" : pct(h.precision),
          h?.recall === undefined || h.recall === null ? "–" : pct(h.recall),
        ];
      }),
    });
  return tables;
}
