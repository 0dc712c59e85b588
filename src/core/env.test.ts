import { readdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ROOT } from "../../test/helpers.js";
import { envSetting, SPECSCI_ENV } from "./env.js";

afterEach(() => {
  vi.unstubAllEnvs();
});

/** Every source file under src/, tests left out. */
function sources(dir = join(ROOT, "src")): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : /\.tsx?$/.test(e.name) && !e.name.endsWith(".test.ts")
        ? [join(dir, e.name)]
        : [],
  );
}

describe("specsci's environment variables", () => {
  it("read their value, else their one default; empty counts as unset", () => {
    vi.stubEnv("SPECSCI_VLLM", "");
    vi.stubEnv("SPECSCI_SGLANG", "/opt/sglang/bin/python");
    vi.stubEnv("SPECSCI_MODEL_CACHE", "");
    vi.stubEnv("SPECSCI_PYTHON", "");
    expect(envSetting("SPECSCI_VLLM")).toBe("vllm");
    expect(envSetting("SPECSCI_SGLANG")).toBe("/opt/sglang/bin/python");
    expect(envSetting("SPECSCI_MODEL_CACHE")).toBe(join(homedir(), ".cache", "specsci", "models"));
    expect(envSetting("SPECSCI_PYTHON")).toBeUndefined();
  });

  it("are read nowhere else, and the README names every one", () => {
    // The local engine's probe hands its child the module URL this way: not a setting.
    const childChannel = /process\.env\.SPECSCI_LLAMA_URL\b/;
    const direct = /process\.env(\.|\[\s*["'`])SPECSCI_|envVar\(\s*["'`]SPECSCI_/;
    const readers = sources()
      .filter((f) => !f.endsWith(join("core", "env.ts")))
      .filter((f) => direct.test(readFileSync(f, "utf8").replace(childChannel, "")));
    expect(readers).toEqual([]);
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    expect(Object.keys(SPECSCI_ENV).filter((name) => !readme.includes(`\`${name}\``))).toEqual([]);
  });
});
