import { type Command, InvalidArgumentError } from "commander";
import { placeholderValueProblem } from "../../spec/light.js";

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

/** `STEP=N[,STEP=N…]`, repeatable: a whole number (at least 1) per name. */
export function parseCountsOption(
  value: string,
  previous: Record<string, number> = {},
): Record<string, number> {
  const out = { ...previous };
  for (const part of parseListOption(value)) {
    const [name, count, ...rest] = part.split("=");
    const n = Number(count);
    if (!name || rest.length || !Number.isInteger(n) || n < 1)
      throw new InvalidArgumentError(
        `expected NAME=N with N a whole number of at least 1, e.g. principles=12 (got ${part})`,
      );
    out[name] = n;
  }
  return out;
}

/** A repeatable option whose values may contain commas. */
export function collectOption(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * `--set NAME=VALUE`, repeatable: a value for the `{NAME}` placeholders of the spec files a command
 * reads (it wins over a front matter key of that name).
 */
export function parseSetOption(
  value: string,
  previous: Record<string, string> = {},
): Record<string, string> {
  const eq = value.indexOf("=");
  if (eq < 1) throw new InvalidArgumentError("expected NAME=VALUE, e.g. model_name=Qwen");
  const name = value.slice(0, eq);
  const problem = placeholderValueProblem(name, value.slice(eq + 1));
  if (problem) throw new InvalidArgumentError(problem);
  return { ...previous, [name]: value.slice(eq + 1) };
}

/** Adds `--set` to a command that reads spec files. */
export function withSetOption(cmd: Command): Command {
  return cmd.option(
    "--set <name=value>",
    "fill the spec's {name} placeholders (repeatable; wins over front matter)",
    parseSetOption,
  );
}
