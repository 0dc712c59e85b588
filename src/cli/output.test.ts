import { describe, expect, it } from "vitest";
import { formatTable } from "./output.js";

describe("formatTable", () => {
  it("pads columns, right-aligns quantities, left-aligns text, and indents every line", () => {
    const text = formatTable(
      ["stage", "calls", "tokens", "cost", "done"],
      [
        ["domains", 1, "575", "$0.0536", "1/1"],
        ["responses", 5760, "4.1M", "unknown", "-"],
      ],
      "  ",
    );
    expect(text).toBe(
      [
        "  stage      calls  tokens  cost     done",
        "  ---------  -----  ------  -------  ----",
        "  domains        1     575  $0.0536   1/1",
        "  responses   5760    4.1M  unknown     -",
        "",
      ].join("\n"),
    );
  });
});
