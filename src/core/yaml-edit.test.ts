import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { setYamlValues } from "./yaml-edit.js";

const QUICKSTART = readFileSync(
  fileURLToPath(new URL("../../examples/quickstart.yaml", import.meta.url)),
  "utf8",
);

describe("setYamlValues", () => {
  it("changes only the values it is given, keeping every other byte of the file", () => {
    const out = setYamlValues(QUICKSTART, [
      [["models"], ["local/builtin:tiny"]],
      [["judge", "model"], "local/builtin:tiny-judge"],
      [["evals", 0, "epochs"], 1],
    ]);
    // Whatever models the example names: only those two values change.
    const expected = QUICKSTART.replace(/^models: \[[^\]\n]+\]/m, "models: [local/builtin:tiny]")
      .replace(/^ {2}model: \S+/m, "  model: local/builtin:tiny-judge")
      .replace("    epochs: 2 #", "    epochs: 1 #");
    expect(out).toBe(expected);
    expect(parse(out).models).toEqual(["local/builtin:tiny"]);
  });

  it("quotes a value that needs it and writes flow sequences without inner padding", () => {
    const out = setYamlValues("a: [x] # list\nb: old\n", [
      [["a"], ["p: q", "r"]],
      [["b"], "has: colon"],
    ]);
    expect(out).toBe('a: ["p: q", r] # list\nb: "has: colon"\n');
    expect(parse(out)).toEqual({ a: ["p: q", "r"], b: "has: colon" });
  });

  it("refuses a path that is not in the document, or a block collection", () => {
    expect(() => setYamlValues("a: 1\n", [[["b"], 2]])).toThrow(/b is not in the document/);
    expect(() => setYamlValues("a:\n  - 1\n", [[["a"], [2]]])).toThrow(/block collection/);
  });
});
