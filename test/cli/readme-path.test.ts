/**
 * The README's own path, as a new user walks it: the training example, the packed and installed
 * package, all offline (the quickstart and `npm test`'s lint of its output: experiment-cli.test.ts).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { specHash } from "../../src/spec/hash.js";
import { loadValidSpec } from "../../src/spec/library.js";
import { cleanupTempDirs, ROOT, runCli, tempDir } from "../helpers.js";

afterAll(cleanupTempDirs);

/** `npm pack` of the clone, unpacked: the package directory, as an install would unpack it. */
function packed(): string {
  const dest = tempDir("specsci-pack-");
  // dist/ is built by the tests' global setup; the tarball must carry it.
  execFileSync("npm", ["pack", "--ignore-scripts", "--pack-destination", dest], {
    cwd: ROOT,
    stdio: "ignore",
  });
  const tarball = readdirSync(dest).find((f) => f.endsWith(".tgz")) as string;
  execFileSync("tar", ["-xzf", join(dest, tarball), "-C", dest]);
  const pkg = join(dest, "package");
  // Its dependencies as `npm install -g` would provide them (offline: the clone's).
  symlinkSync(join(ROOT, "node_modules"), join(pkg, "node_modules"), "dir");
  return pkg;
}

/** `npm install -g .` in the clone, into a prefix of its own; returns the prefix. */
function installedGlobally(): string {
  const prefix = tempDir("specsci-prefix-");
  execFileSync(
    "npm",
    [
      "install",
      "-g",
      "--prefix",
      prefix,
      "--offline",
      "--ignore-scripts",
      "--no-audit",
      "--no-fund",
      ".",
    ],
    { cwd: ROOT, stdio: "ignore" },
  );
  return prefix;
}

/**
 * A script's own project beside an installed specsci (`pkg`): `node_modules/specsci` is the
 * package, as `npm install specsci` or `npm link specsci` leaves it. The script imports it by
 * name, through the package's `exports` map, calls it, and prints what it got as JSON; a second
 * file uses its types, checked by the TypeScript compiler against the published declarations.
 */
function useByName(pkg: string) {
  const project = tempDir("specsci-user-");
  mkdirSync(join(project, "node_modules"));
  symlinkSync(pkg, join(project, "node_modules", "specsci"), "dir");
  symlinkSync(join(ROOT, "node_modules", "@types"), join(project, "node_modules", "@types"), "dir");
  writeFileSync(
    join(project, "script.mjs"),
    `import * as specsci from "specsci";
import { registerFakeModel, testWorkspace } from "specsci/test";
const { deriveCheckedSpec, loadValidSpec, rulesOf, samplesPerArm, specHash } = specsci;
const rules = loadValidSpec("rules").spec;
registerFakeModel("hello", (req) => "hello, " + req.messages.at(-1).content);
const ws = testWorkspace();
const answer = await ws.client
  .model("fake/hello")
  .generate({ messages: [{ role: "user", content: "script" }], params: { max_tokens: 16 } }, { context: { stage: "script" } });
const calls = ws.store.llm.usage({}).length;
ws.dispose();
const first = rulesOf(rules)[0].id;
const derived = await deriveCheckedSpec(rules, "select", { rules: [first] });
let deep;
try {
  await import("specsci/dist/store/migrations.js");
  deep = "importable";
} catch (e) {
  deep = e.code;
}
const internals = ["MIGRATIONS", "ManagedModel", "ThroughputLimiter", "OpenAIBatchBackend", "registerFakeModel", "sleep"];
console.log(JSON.stringify({
  hash: specHash(rules),
  answer: answer.text,
  calls,
  derived: rulesOf(derived.spec).map((r) => r.id),
  first,
  perArm: samplesPerArm(0.1, 0.2, { alpha: 0.05, power: 0.8 }).perArm,
  api: ["runExperiment", "writeReport", "analyzeReasoning", "buildCorpus", "diffSpecs", "Store", "LlmClient"].filter((n) => typeof specsci[n] === "function"),
  internals: internals.filter((n) => n in specsci),
  deep,
}));
`,
  );
  writeFileSync(
    join(project, "typed.ts"),
    `import { type ExperimentRunResult, type Spec, loadValidSpec, runExperiment, specHash } from "specsci";
import { type TestWorkspace, testWorkspace } from "specsci/test";
const spec: Spec = loadValidSpec("rules").spec;
const hash: string = specHash(spec);
const ws: TestWorkspace = testWorkspace();
export const run: (typeof runExperiment)[] = [runExperiment];
export type Result = ExperimentRunResult;
export { hash, ws };
`,
  );
  writeFileSync(
    join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        module: "nodenext",
        moduleResolution: "nodenext",
        target: "es2023",
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ["node"],
      },
      files: ["typed.ts"],
    }),
  );
  const run = spawnSync(process.execPath, ["script.mjs"], {
    cwd: project,
    encoding: "utf8",
    env: { ...process.env, SPECSCI_MODEL_CACHE: join(project, "models") },
  });
  const types = spawnSync(join(ROOT, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.json"], {
    cwd: project,
    encoding: "utf8",
  });
  return { run, types };
}

/** What `useByName`'s script printed, checked: the API answers, internals stay inside. */
function expectUsable(r: ReturnType<typeof useByName>) {
  expect(r.run.status, r.run.stderr).toBe(0);
  const got = JSON.parse(r.run.stdout);
  expect(got.hash).toBe(specHash(loadValidSpec("rules").spec));
  expect(got.answer).toBe("hello, script");
  expect(got.calls).toBe(1);
  expect(got.derived).toEqual([got.first]);
  expect(got.perArm).toBeGreaterThan(100);
  expect(got.api).toEqual([
    "runExperiment",
    "writeReport",
    "analyzeReasoning",
    "buildCorpus",
    "diffSpecs",
    "Store",
    "LlmClient",
  ]);
  expect(got.internals).toEqual([]);
  expect(got.deep).toBe("ERR_PACKAGE_PATH_NOT_EXPORTED");
  expect(r.types.status, `${r.types.stdout}${r.types.stderr}`).toBe(0);
}

describe("the README's path", () => {
  // `npm test`'s lint after `specsci quickstart --demo` wrote into the project: checked on the
  // quickstart run of test/cli/experiment-cli.test.ts (one demo run serves both).

  it("`specsci train plan examples/recipes/train.yaml` plans the shipped synthetic sample offline", async () => {
    const r = await runCli(
      ["--json", "train", "plan", join(ROOT, "examples", "recipes", "train.yaml")],
      { cwd: tempDir("specsci-train-example-") },
    );
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.stages).toHaveLength(6);
    for (const s of plan.stages) {
      expect(s.examples).toBeGreaterThan(0);
      expect(s.tokens).toBeGreaterThan(0);
    }
    const shown = await runCli(["train", "plan", "examples/recipes/train.yaml", "--show-config"]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain("type: completion");

    for (const dir of ["msm-value-augmented", "aft-value-augmented"]) {
      const sample = join("examples", "sample-data", dir);
      // Labelled for what it is, where a reader of the data looks.
      const manifest = JSON.parse(readFileSync(join(ROOT, sample, "manifest.json"), "utf8"));
      expect(manifest.note).toMatch(/^SYNTHETIC SAMPLE: made by specsci's own pipeline/);
      expect(readFileSync(join(ROOT, sample, "README.md"), "utf8")).toContain("SYNTHETIC SAMPLE");
      expect(readFileSync(join(ROOT, sample, "manifest.json"), "utf8")).not.toContain(ROOT);
      // Part of a fresh clone: not ignored by git.
      const ignored = spawnSync("git", ["check-ignore", "-q", join(sample, "manifest.json")], {
        cwd: ROOT,
      });
      expect(ignored.status, `${sample} is ignored by git`).toBe(1);
    }
    expect(
      execFileSync("git", ["check-ignore", "corpora/x", "runs/x"], { cwd: ROOT }).toString(),
    ).toBe("corpora/x\nruns/x\n");
  });

  it("`npm pack` holds everything an installed specsci needs, found from where it is installed", () => {
    const pkg = packed();
    const elsewhere = tempDir("specsci-elsewhere-");
    const installed = (...args: string[]) => {
      const r = spawnSync(process.execPath, [join(pkg, "bin", "specsci.js"), ...args], {
        cwd: elsewhere,
        encoding: "utf8",
        env: { ...process.env, SPECSCI_MODEL_CACHE: join(elsewhere, "models") },
      });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };

    expect(installed("--help").stdout).toContain("Usage: specsci");
    // Built-in specs, scenarios, prompts and examples resolve inside the installed package.
    const plan = installed("--json", "plan", join(pkg, "examples", "quickstart.yaml"));
    expect(plan.code, plan.stderr).toBe(0);
    for (const s of JSON.parse(plan.stdout).specs)
      expect(s.source.startsWith(pkg), s.source).toBe(true);
    const scenario = installed("eval", "scenarios", "leaking_none-none_replacement");
    expect(scenario.code, scenario.stderr).toBe(0);
    expect(installed("msm", "plan", "rules").code).toBe(0);
    const train = installed("train", "plan", join(pkg, "examples", "recipes", "train.yaml"));
    expect(train.code, train.stderr).toBe(0);
  });

  it("`npm install -g .` in the clone puts a working specsci on the PATH", () => {
    const prefix = installedGlobally();
    const r = spawnSync(join(prefix, "bin", "specsci"), ["spec", "list"], {
      cwd: tempDir("specsci-elsewhere-"),
      encoding: "utf8",
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("value-augmented");
  });

  it('the packed package is a library by name: `import … from "specsci"` and `"specsci/test"`', () => {
    expectUsable(useByName(packed()));
  }, 120_000);

  it("a global install is a library by name too, linked into a project", () => {
    const prefix = installedGlobally();
    expectUsable(useByName(join(prefix, "lib", "node_modules", "specsci")));
  }, 120_000);
});
