import { InvalidArgumentError } from "commander";

export function parseIntOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a whole number");
  return n;
}

export function parsePositiveIntOption(value: string): number {
  const n = parseIntOption(value);
  if (n < 1) throw new InvalidArgumentError("expected a whole number of at least 1");
  return n;
}

export function parseFloatOption(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError("expected a number");
  return n;
}

/** A comma-separated list; the option may also be repeated. */
export function parseListOption(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  ];
}

/** A repeatable option whose values may contain commas. */
export function collectOption(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
