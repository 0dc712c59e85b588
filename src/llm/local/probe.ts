import { spawn } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { writeFileAtomic } from "../../core/fs.js";
import { sha256Hex } from "../../core/hash.js";
import { readGgufHeader } from "./gguf-header.js";

const probed = new Map<string, true>();

function probeScriptFile(): string {
  const dir = join(tmpdir(), "specsci");
  const file = join(dir, `gguf-probe-${sha256Hex(PROBE_SCRIPT).slice(0, 12)}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(file, PROBE_SCRIPT);
  }
  return file;
}

// Runs in a child process: llama.cpp aborts the whole process (GGML_ASSERT) on some malformed
// models, which no try/catch can intercept. It runs from a file, not `node -e`: node-llama-cpp
// forks itself with the parent's execArgv to test its binary, and an inherited `-e` would run this
// script again instead, fail the test, and make it compile llama.cpp from source (minutes).
const PROBE_SCRIPT = `
const { getLlama } = await import(process.env.SPECSCI_LLAMA_URL);
const modelPath = process.argv[2];
try {
  const llama = await getLlama({ gpu: false, logLevel: "error" });
  const model = await llama.loadModel({ modelPath });
  await model.dispose();
  process.exit(0);
} catch (e) {
  process.stderr.write("SPECSCI_PROBE_ERROR " + (e && e.message ? e.message : String(e)) + "\\n");
  process.exit(3);
}
`;

/**
 * Checks that llama.cpp can load a GGUF file, without risking this process. Returns a problem
 * description, or undefined when the model loads. Results are remembered per file version.
 */
export async function probeModelFile(path: string): Promise<string | undefined> {
  const header = readGgufHeader(path);
  if ("problem" in header) return header.problem;
  const st = statSync(path);
  const memo = `${path}:${st.size}:${st.mtimeMs}`;
  if (probed.has(memo)) return undefined;

  const llamaUrl = pathToFileURL(createRequire(import.meta.url).resolve("node-llama-cpp")).href;
  const result = await new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stderr: string;
  }>((resolve) => {
    const child = spawn(process.execPath, [probeScriptFile(), path], {
      env: { ...process.env, SPECSCI_LLAMA_URL: llamaUrl },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-8192);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 300_000);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
  if (result.code === 0) {
    probed.set(memo, true);
    return undefined;
  }
  const reported = /SPECSCI_PROBE_ERROR (.*)/.exec(result.stderr)?.[1];
  if (reported)
    return `llama.cpp cannot load ${path}: ${reported}; the file may be incomplete or corrupt (download it again)`;
  const assertLine = result.stderr
    .split("\n")
    .find((l) => /GGML_ASSERT|error/i.test(l))
    ?.trim();
  const how = result.signal ? `crashed (${result.signal})` : `exited with code ${result.code}`;
  return `llama.cpp ${how} while loading ${path}${assertLine ? `: ${assertLine}` : ""}; the file is corrupt or not a supported model`;
}
