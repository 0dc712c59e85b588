/** Small pieces every page uses. Every string from the store is a text child: Preact escapes it. */
import type { ComponentChildren } from "preact";
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
