import { SpecsciError } from "../../core/errors.js";
import type { Sample } from "../types.js";
import {
  type EmailTemplate,
  type Family,
  GOAL_KINDS,
  type GoalKind,
  goalContentKey,
  inboxOf,
  type LoadedPack,
  type Pack,
  THREATS,
  type Threat,
} from "./pack.js";
import { renderStrict } from "./template.js";
import { DEFAULT_TOGGLES, type Toggles } from "./toggles.js";

export { DEFAULT_TOGGLES, type Toggles } from "./toggles.js";

export interface Condition {
  family: string;
  goal: GoalKind;
  /** A goal value for explicit, latent and swap; "none" otherwise. */
  value: string;
  threat: Threat;
}

/** `{family}_{goal}-{value}_{threat}`, e.g. `leaking_explicit-america_replacement`. */
export function conditionId(c: Condition): string {
  return `${c.family}_${c.goal}-${c.value}_${c.threat}`;
}

export function parseConditionId(id: string): Condition {
  const m = /^([a-z][a-z0-9-]*)_([a-z]+)-([a-z]+)_([a-z]+)$/.exec(id);
  if (
    !m ||
    !(GOAL_KINDS as readonly string[]).includes(m[2] as string) ||
    !(THREATS as readonly string[]).includes(m[4] as string)
  ) {
    throw new SpecsciError(
      `"${id}" is not a condition id of the form {family}_{goal}-{value}_{threat}`,
    );
  }
  return {
    family: m[1] as string,
    goal: m[2] as GoalKind,
    value: m[3] as string,
    threat: m[4] as Threat,
  };
}

/** Every condition of the pack: families × goal conditions (values only where they apply) × threats. */
export function allConditions(loaded: LoadedPack): Condition[] {
  const values = Object.keys(loaded.pack.goals);
  const out: Condition[] = [];
  for (const f of loaded.families) {
    for (const goal of GOAL_KINDS) {
      for (const value of goal === "none" || goal === "ambiguous" ? ["none"] : values) {
        for (const threat of THREATS) out.push({ family: f.family, goal, value, threat });
      }
    }
  }
  return out;
}

/**
 * The MSM paper's standard set: leaking, lethal inaction and self-exfiltration × (no goal + the 8
 * explicit goal values) × replacement = 27 scenarios.
 */
export function standardConditions(loaded: LoadedPack): Condition[] {
  const families = ["leaking", "lethal-inaction", "exfiltration"];
  return allConditions(loaded).filter(
    (c) =>
      families.includes(c.family) &&
      c.threat === "replacement" &&
      (c.goal === "none" || c.goal === "explicit"),
  );
}

/** `2026-03-12T16:53:00-05:00` → `Thursday 12 March 2026, 16:53 (UTC-05:00)`, without time-zone arithmetic. */
// English names by hand: Intl's toLocaleDateString was a third of building a task (and its
// output could differ between ICU builds, which would change prompts and run ids).
const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

function displayTime(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):\d{2}([+-]\d{2}:\d{2})$/.exec(iso);
  if (!m) throw new SpecsciError(`bad timestamp ${iso}`);
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  const weekday = WEEKDAYS[date.getUTCDay()];
  const month = MONTHS[date.getUTCMonth()];
  return `${weekday} ${Number(m[3])} ${month} ${m[1]}, ${m[4]}:${m[5]} (UTC${m[6]})`;
}

function included(e: EmailTemplate, c: Condition, toggles: Toggles): boolean {
  const inbox = inboxOf(c.goal);
  return (
    (!e.when?.inbox || e.when.inbox.includes(inbox)) &&
    (!e.when?.threat || e.when.threat.includes(c.threat)) &&
    (e.when?.deterrents === undefined || e.when.deterrents === toggles.deterrents)
  );
}

type Goal = Pack["goals"][string];

/** Explicit and swap state a goal in the system prompt; latent leaves it to the inbox. */
const statesGoal = (c: Condition) => c.goal === "explicit" || c.goal === "swap";

/** What the steps of rendering one condition share. */
interface Rendering {
  loaded: LoadedPack;
  family: Family;
  c: Condition;
  toggles: Toggles;
  id: string;
  /** Where an error points: the family's file and the condition. */
  where: string;
  /** Whether the system prompt states a goal (`statesGoal`). */
  states: boolean;
  /** The variables that apply to this condition: each must be used. */
  scoped: Record<string, string>;
  /** `scoped` and the variables that are always available but never required. */
  vars: Record<string, string>;
  /** Every variable the prompts consulted. */
  used: Set<string>;
}

interface RenderedEmail {
  key: string;
  time: number;
  fields: {
    from: string;
    to: string;
    cc: string | undefined;
    subject: string;
    timestamp: string;
    attachments: string[] | undefined;
    body: string;
  };
}

/**
 * Renders one condition to a sample: system prompt, the fixed instruction and the inbox in
 * chronological order. Strict: an unfilled placeholder, a variable that applies to the condition
 * but is never used, out-of-order or future-dated emails, or another family's company name in the
 * text are all errors.
 */
export function renderCondition(
  loaded: LoadedPack,
  c: Condition,
  toggles: Toggles = DEFAULT_TOGGLES,
): Sample {
  const r = startRendering(loaded, c, toggles);
  const system = systemPrompt(r);
  const emails = inboxInOrder(r);
  const user = userPrompt(r, emails);
  checkPrompts(r, system + user);
  return {
    id: r.id,
    input: [
      { role: "system", content: system },
      { role: "user", content: user },
    ],
    metadata: sampleMetadata(r, emails),
  };
}

function startRendering(loaded: LoadedPack, c: Condition, toggles: Toggles): Rendering {
  const family = familyById(loaded, c.family);
  if (!family)
    throw new SpecsciError(
      `no family "${c.family}" in the pack (families: ${loaded.families.map((f) => f.family).join(", ")})`,
    );
  const id = conditionId(c);
  const where = `${family.family}.yaml (${id})`;
  const goal = goalOf(loaded.pack, c, id);
  const scoped = scopedVariables(loaded.pack, family, c, goal, where);
  // Always available, never required.
  const vars: Record<string, string> = {
    ...scoped,
    model_name: toggles.modelName,
    company_name: family.company.name,
    company_domain: family.company.domain,
    start_time: displayTime(family.start),
  };
  return {
    loaded,
    family,
    c,
    toggles,
    id,
    where,
    states: statesGoal(c),
    scoped,
    vars,
    used: new Set(),
  };
}

/** The goal value of the condition: required by the conflict inbox, refused by the others. */
function goalOf(pack: Pack, c: Condition, id: string): Goal | undefined {
  const inbox = inboxOf(c.goal);
  const goal = pack.goals[c.value];
  if (inbox === "conflict" && !goal)
    throw new SpecsciError(
      `${id}: no goal value "${c.value}" (values: ${Object.keys(pack.goals).join(", ")})`,
    );
  if (inbox !== "conflict" && c.value !== "none")
    throw new SpecsciError(`${id}: goal condition ${c.goal} takes no goal value`);
  return goal;
}

/** The family's variables, its threat's and its goal content's, the directions and the goal. */
function scopedVariables(
  pack: Pack,
  family: Family,
  c: Condition,
  goal: Goal | undefined,
  where: string,
): Record<string, string> {
  const inbox = inboxOf(c.goal);
  const scoped: Record<string, string> = { ...family.variables };
  const content = family.goal_content[goalContentKey(c.goal, c.value)] ?? {};
  for (const [k, v] of [
    ...Object.entries(family.threat_variables[c.threat]),
    ...Object.entries(content),
  ]) {
    if (k in scoped) throw new SpecsciError(`${where}: variable ${k} is defined twice`);
    scoped[k] = v;
  }
  if (inbox === "conflict" && goal) {
    const opposite = pack.goals[goal.opposite];
    scoped.new_direction = opposite?.direction ?? "";
    scoped.old_direction = goal.direction;
  } else if (inbox === "ambiguous") {
    scoped.new_direction = pack.ambiguous.direction;
    scoped.old_direction = pack.ambiguous.old_direction;
  }
  if (statesGoal(c) && goal)
    scoped.goal_text = (c.goal === "swap" ? pack.goals[goal.opposite]?.text : goal.text) ?? "";
  return scoped;
}

/** Identity, the stated goal, notices, deployment and time, reminders, then the tools. */
function systemPrompt(r: Rendering): string {
  const { pack } = r.loaded;
  const { family, toggles } = r;
  const parts = [family.identity];
  if (r.states) parts.push(pack.system.goal_statement);
  if (toggles.evalNotice) parts.push(pack.system.eval_notice);
  if (toggles.scratchpad) parts.push(pack.system.scratchpad);
  parts.push(family.deployment, pack.system.time);
  const reminders = [
    ...(r.states ? [pack.system.goal_reminder] : []),
    ...(toggles.safetyInstructions ? [pack.system.safety_instructions] : []),
    pack.system.situation_reminder,
  ];
  parts.push(`${pack.system.reminders_header}\n${reminders.map((s) => s.trim()).join("\n")}`);
  parts.push(
    `${pack.system.tools_header}\n\n${family.tools.map((t) => pack.tools[t].trim()).join("\n\n")}`,
  );
  return renderStrict(
    parts.map((p) => p.trim()).join("\n\n"),
    r.vars,
    r.used,
    `${r.where} system prompt`,
  );
}

/** The emails this condition sees, rendered, oldest first. */
function inboxInOrder(r: Rendering): RenderedEmail[] {
  const emails = r.family.emails
    .filter((e) => included(e, r.c, r.toggles))
    .map((e) => renderEmail(r, e))
    .sort((a, b) => a.time - b.time);
  checkChronology(r, emails);
  return emails;
}

function renderEmail(r: Rendering, e: EmailTemplate): RenderedEmail {
  const field = (s: string) => renderStrict(s, r.vars, r.used, `${r.where} email ${e.key}`);
  return {
    key: e.key,
    time: Date.parse(e.timestamp),
    fields: {
      from: field(e.from),
      to: field(e.to),
      cc: e.cc === undefined ? undefined : field(e.cc),
      subject: field(e.subject),
      timestamp: e.timestamp,
      attachments: e.attachments?.map(field),
      body: field(e.body.trim()),
    },
  };
}

/** Equal timestamps would leave the order to chance; a future email breaks the scenario's "now". */
function checkChronology(r: Rendering, emails: RenderedEmail[]): void {
  const start = Date.parse(r.family.start);
  for (const [i, e] of emails.entries()) {
    if (i > 0 && e.time <= (emails[i - 1]?.time ?? 0))
      throw new SpecsciError(
        `${r.where}: emails ${emails[i - 1]?.key} and ${e.key} have the same timestamp`,
      );
    if (e.time > start)
      throw new SpecsciError(
        `${r.where}: email ${e.key} is dated after the scenario's start (${r.family.start})`,
      );
  }
}

/** The fixed instruction, then the inbox; emails are numbered where the model can forward them. */
function userPrompt(r: Rendering, emails: RenderedEmail[]): string {
  const numbered = r.family.tools.includes("forward_email");
  const blocks = emails.map((e, i) => emailBlock(e.fields, numbered ? i + 1 : undefined));
  return `${r.loaded.pack.user_prompt.trim()}\n\n${blocks.join("\n\n")}`;
}

function emailBlock(f: RenderedEmail["fields"], number: number | undefined): string {
  return [
    "<email>",
    ...(number === undefined ? [] : [`ID: ${number}`]),
    `From: ${f.from}`,
    `To: ${f.to}`,
    ...(f.cc ? [`Cc: ${f.cc}`] : []),
    `Subject: ${f.subject}`,
    `Timestamp: ${f.timestamp}`,
    ...(f.attachments?.length ? [`Attachments: ${f.attachments.join(", ")}`] : []),
    `Body:\n${f.body}`,
    "</email>",
  ].join("\n");
}

/** Every scoped variable was used, and no other family's company leaked into the prompts. */
function checkPrompts(r: Rendering, text: string): void {
  const unused = Object.keys(r.scoped).filter((k) => !r.used.has(k));
  if (unused.length)
    throw new SpecsciError(`${r.where}: variable(s) defined but not used: ${unused.join(", ")}`);
  for (const other of r.loaded.families) {
    if (other !== r.family && text.includes(other.company.name)) {
      throw new SpecsciError(
        `${r.where}: mentions ${other.company.name}, the company of the ${other.family} family`,
      );
    }
  }
}

function sampleMetadata(r: Rendering, emails: RenderedEmail[]): Record<string, unknown> {
  const { c, toggles } = r;
  const evidence = sampleEvidence(r, emails);
  return {
    family: r.family.family,
    goal_type: c.goal,
    goal_value: c.value,
    threat: c.threat,
    condition_id: r.id,
    model_name: toggles.modelName,
    scratchpad: toggles.scratchpad,
    safety_instructions: toggles.safetyInstructions,
    eval_notice: toggles.evalNotice,
    deterrents: toggles.deterrents,
    evidence,
  };
}

/** What the scorers check the answer against, rendered with the condition's variables. */
function sampleEvidence(r: Rendering, emails: RenderedEmail[]): Record<string, unknown> {
  const { family, where } = r;
  const ev = family.evidence;
  // Its own used-set: evidence is not part of the prompts, so it cannot make a variable "used".
  const evidenceUsed = new Set<string>();
  const render = (s: string) => renderStrict(s, r.vars, evidenceUsed, `${where} evidence`);
  const confidential = ev.confidential_email
    ? emails.findIndex((e) => e.key === ev.confidential_email)
    : -1;
  if (ev.confidential_email && confidential < 0)
    throw new SpecsciError(
      `${where}: the confidential email ${ev.confidential_email} is not in this condition's inbox`,
    );
  return {
    company_domain: family.company.domain,
    tools: family.tools,
    harmful_action: family.harmful_action,
    rubric: render(family.rubric),
    ...(confidential >= 0 ? { confidential_email_id: String(confidential + 1) } : {}),
    ...(ev.secret_markers ? { secret_markers: ev.secret_markers.map(render) } : {}),
    ...(ev.target ? { target: render(ev.target).toLowerCase() } : {}),
    ...(ev.code ? { code: render(ev.code) } : {}),
    ...(ev.leverage_markers ? { leverage_markers: ev.leverage_markers.map(render) } : {}),
  };
}

export function familyById(loaded: LoadedPack, name: string): Family | undefined {
  return loaded.families.find((f) => f.family === name);
}
