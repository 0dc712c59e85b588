/**
 * The CLI imports the library only through the modules' public entries (`index.js`, or the
 * `light.js` subset; only `light.js` on the start-up path): `npm run lint` (biome's
 * noRestrictedImports, configured in biome.json) fails on anything else.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTempDirs, ROOT, tempDir } from "../helpers.js";

afterAll(cleanupTempDirs);

/** `biome lint` over files written into a project with specsci's biome.json. */
function lint(files: Record<string, string>) {
  const project = tempDir("specsci-lint-");
  copyFileSync(join(ROOT, "biome.json"), join(project, "biome.json"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(project, path)), { recursive: true });
    writeFileSync(join(project, path), text);
  }
  const r = spawnSync(
    join(ROOT, "node_modules", ".bin", "biome"),
    ["lint", "--colors=off", "--vcs-enabled=false", "."],
    { cwd: project, encoding: "utf8" },
  );
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

const uses = (imports: string) => `${imports}\nexport const used = [x];\n`;

describe("the CLI's imports", () => {
  it("may name a module's index.js or light.js", () => {
    const r = lint({
      "src/cli/commands/ok.ts": uses('import { parseSpec as x } from "../../spec/index.js";'),
      "src/cli/commands/light.ts": uses(
        'import { samplesPerArm as x } from "../../analysis/light.js";',
      ),
      "src/cli/tree/ok.ts": uses('import { TRANSFORMS as x } from "../../spec/light.js";'),
      "src/cli/context.ts": uses('import { Store as x } from "../store/index.js";'),
      // The library itself is not restricted.
      "src/experiment/deep.ts": uses('import { checkSpecFile as x } from "../spec/io.js";'),
    });
    expect(r.code, r.output).toBe(0);
  });

  it.each([
    ["a module's inner file", "src/cli/commands/bad.ts", "../../spec/io.js"],
    ["a nested index", "src/cli/commands/bad.ts", "../../analysis/reasoning/index.js"],
    ["the whole library", "src/cli/commands/bad.ts", "../../index.js"],
    ["an inner file from cli/", "src/cli/bad.ts", "../store/db.js"],
  ])("fails on %s (%s imports %s)", (_what, file, from) => {
    const r = lint({ [file]: uses(`import { y as x } from "${from}";`) });
    expect(r.code).not.toBe(0);
    expect(r.output).toContain("lint/style/noRestrictedImports");
    expect(r.output).toContain("only through a module's public entry");
  });

  it("fails on a module's full index in the command tree, which every start loads", () => {
    const r = lint({
      "src/cli/tree/bad.ts": uses('import { parseSpec as x } from "../../spec/index.js";'),
    });
    expect(r.code).not.toBe(0);
    expect(r.output).toContain("import from a module's light.js");
  });
});
