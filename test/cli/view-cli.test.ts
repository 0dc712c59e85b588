/**
 * `specsci view` as a user runs it: the first line is the URL; no response carries a secret from
 * the environment; Ctrl-C (SIGINT) and SIGTERM stop it cleanly, with exit 0.
 */
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setLogLevel } from "../../src/core/log.js";
import type { ExperimentsResponse, SamplesPage } from "../../src/view/api-types.js";
import { BIN, cleanupTempDirs, ROOT } from "../helpers.js";
import { DEMO, workspaceWith } from "../view/fixture.js";

const SECRETS = {
  OPENAI_API_KEY: "sk-test-VIEWSECRETopenai0123456789",
  ANTHROPIC_API_KEY: "sk-ant-test-VIEWSECRETanthropic0123",
  MY_ENDPOINT_KEY: "endpoint-VIEWSECRET-key-9876",
};

let workspace: string;
beforeAll(async () => {
  setLogLevel("quiet");
  const ws = await workspaceWith(DEMO);
  ws.store.close();
  workspace = ws.workspace;
});
afterAll(cleanupTempDirs);

/** Starts `specsci view`; resolves with its URL (the first line of stdout) and the process. */
function startView(args: string[] = []) {
  const child = spawn(process.execPath, [BIN, "-w", workspace, "view", "--port", "0", ...args], {
    cwd: ROOT,
    env: { ...process.env, ...SECRETS, FORCE_COLOR: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes("\n")) resolve(stdout.split("\n")[0] as string);
    });
    child.on("exit", () => reject(new Error(`specsci view exited: ${stderr}`)));
  });
  return { child, url, exited, stderr: () => stderr };
}

describe("specsci view", () => {
  it("prints its URL first, leaks no secret, and stops cleanly on SIGINT and SIGTERM", async () => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      const view = startView();
      const url = await view.url;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const paths = [
        "",
        "api/experiments",
        "api/experiments/experiment-demo",
        "api/runs",
        "api/samples",
        // The annotation routes `specsci view` registers.
        "api/annotations/taxonomy?experiment=experiment-demo",
        "api/annotations/agreement?experiment=experiment-demo",
      ];
      const sample = ((await (await fetch(`${url}api/samples?limit=1`)).json()) as SamplesPage)
        .rows[0];
      paths.push(
        `api/sample?${new URLSearchParams({ run: sample?.runId ?? "", sample: sample?.sampleId ?? "", epoch: "1" })}`,
      );
      const { experiments } = (await (
        await fetch(`${url}api/experiments`)
      ).json()) as ExperimentsResponse;
      expect(experiments.map((e) => e.name)).toEqual(["demo"]);
      for (const path of paths) {
        const res = await fetch(`${url}${path}`);
        expect(res.status, path).toBe(200);
        const body = await res.text();
        for (const secret of Object.values(SECRETS)) expect(body, path).not.toContain(secret);
        expect(body).not.toContain("VIEWSECRET");
      }
      view.child.kill(signal);
      expect(await view.exited).toBe(0);
      // The server is gone with it.
      await expect(fetch(url)).rejects.toThrow();
    }
  });

  it("refuses a bad --port with a clear message", async () => {
    const view = startView(["--port", "http"]);
    await expect(view.url).rejects.toThrow(/--port http: not a port number/);
    expect(await view.exited).toBe(1);
  });
});
