/** Small pieces every page uses. Every string from the store is a text child: Preact escapes it. */
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import type { ParsedAction, ScoreView } from "../api-types.js";
import { onLinkClick } from "./router.js";

export function Link(props: { href: string; children: ComponentChildren; class?: string }) {
  return (
    <a href={props.href} class={props.class} onClick={onLinkClick}>
      {props.children}
    </a>
  );
}

/** A rate as a percentage; null (NaN on the server: no samples) as a dash. */
export const pct = (x: number | null | undefined, digits = 1) =>
  x === null || x === undefined || Number.isNaN(x) ? "–" : `${(x * 100).toFixed(digits)}%`;

export const num = (x: number | null | undefined, digits = 3) =>
  x === null || x === undefined || Number.isNaN(x) ? "–" : x.toFixed(digits);

export const interval = (ci: [number | null, number | null] | null | undefined, f = pct) =>
  ci ? `[${f(ci[0])}, ${f(ci[1])}]` : "–";

export const usd = (x: number) => `$${x.toFixed(x < 1 ? 4 : 2)}`;

/** p-values: small ones in exponent form, undefined ones as a dash. */
export const pValue = (p: number | null | undefined) =>
  p === null || p === undefined || Number.isNaN(p)
    ? "–"
    : p < 0.001
      ? p.toExponential(1)
      : p.toFixed(3);

export function Problem(props: { children: ComponentChildren }) {
  return (
    <p class="problem" role="alert">
      {props.children}
    </p>
  );
}

export function Loading() {
  return <p class="muted">Loading…</p>;
}

/** Errors, truncations and refusals, shown beside every rate (none of them is in its n). */
export function Outcomes(props: { errors: number; truncated: number; refused: number }) {
  const { errors, truncated, refused } = props;
  if (!errors && !truncated && !refused) return <span class="muted">none</span>;
  return (
    <span class="outcomes">
      {errors ? <span class="bad">{errors} failed</span> : null}
      {truncated ? <span class="warn">{truncated} cut off</span> : null}
      {refused ? <span class="warn">{refused} refused</span> : null}
    </span>
  );
}

/** A labelled drop-down; `onPick` gets the chosen value. */
export function Choice(props: {
  label: string;
  name: string;
  value: string;
  options: { value: string; label: string }[];
  onPick: (value: string) => void;
}) {
  return (
    <label>
      {props.label}
      <select
        name={props.name}
        value={props.value}
        onChange={(e) => props.onPick((e.currentTarget as HTMLSelectElement).value)}
      >
        {props.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The actions parsed from an answer, each tool with its fields (drafts in the scratchpad marked). */
export function ActionList({ actions }: { actions: ParsedAction[] }) {
  return (
    <ul>
      {actions.map((a, i) => (
        <li key={i}>
          <code>{a.tool}</code>
          {a.draft ? " (draft in the scratchpad)" : ""}:{" "}
          {Object.entries(a.fields)
            .map(([k, v]) => `${k}: ${v}`)
            .join(" · ")}
        </li>
      ))}
    </ul>
  );
}

/** A value as one line of text (strings as they are). */
export const jsonText = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v, null, 1));

/** Every scorer's answer, value and explanation. */
export function ScoreTable({ scores }: { scores: ScoreView[] }) {
  return (
    <table class="grid">
      <tbody>
        {scores.map((s) => (
          <tr key={s.name}>
            <th>{s.name}</th>
            <td>{s.answer ?? ""}</td>
            <td>
              <code>{jsonText(s.value)}</code>
            </td>
            <td>{s.explanation ?? ""}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * Calls the handler of the latest render for every keydown on the window. The listener is added
 * once and reads a ref set during render: effects run after paint, so a listener re-added by an
 * effect would send a key pressed just after a page changed to the previous page's handler.
 */
export function useKeys(onKey: (e: KeyboardEvent) => void) {
  const latest = useRef(onKey);
  latest.current = onKey;
  useEffect(() => {
    const listener = (e: KeyboardEvent) => latest.current(e);
    window.addEventListener("keydown", listener);
    return () => window.removeEventListener("keydown", listener);
  }, []);
}

/** Whether a key went to a form field (where it is typing, not a shortcut). */
export const isTyping = (t: EventTarget | null) =>
  t instanceof HTMLInputElement ||
  t instanceof HTMLTextAreaElement ||
  t instanceof HTMLSelectElement;
