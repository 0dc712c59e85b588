import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agenticMisalignmentTask } from "../../src/evals/am/task.js";
import { exportInspectLog } from "../../src/evals/inspect.js";
import {
  INSPECT_SCHEMA_COMMIT,
  INSPECT_SCHEMA_FILE,
  INSPECT_SCHEMA_SOURCE_FILE,
  inspectSchemaUrl,
  refreshInspectSchema,
  validateEvalLog,
} from "../../src/evals/inspect-schema.js";
import { judgeOptions } from "../../src/evals/judge.js";
import { runEval } from "../../src/evals/runner.js";
import { registerAmFakes } from "../fakes/am-models.js";
import { cleanupTempDirs, makeClient, tempDir } from "../helpers.js";

registerAmFakes();

/** A loopback stand-in for raw.githubusercontent.com: serves `body` at any path. */
let body = "";
let server: Server;
let base = "";
beforeAll(async () => {
  server = createServer((_req, res) => {
    // One connection per request: a kept-alive socket the server drops while the test is busy
    // elsewhere fails the next fetch ("fetch failed") under load.
    res
      .writeHead(body ? 200 : 404, { "content-type": "application/json", connection: "close" })
      .end(body);
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
  cleanupTempDirs();
});

describe("the vendored Inspect schema", () => {
  it("names the inspect_ai commit it was copied from, in the code and beside the file", () => {
    const source = JSON.parse(readFileSync(INSPECT_SCHEMA_SOURCE_FILE, "utf8"));
    expect(source.commit).toBe(INSPECT_SCHEMA_COMMIT);
    expect(source.url).toBe(inspectSchemaUrl(INSPECT_SCHEMA_COMMIT));
  });

  it("refreshed from a URL, still validates the exports", async () => {
    const { client, store } = makeClient();
    const task = agenticMisalignmentTask(
      { conditions: ["leaking_explicit-america_replacement"] },
      judgeOptions(client.model("fake/am-judge")),
    );
    const summary = await runEval({ client, task, modelId: "fake/am-agent", epochs: 1 });
    const { log } = exportInspectLog(store, summary.runId);

    const dir = tempDir("specsci-schema-");
    const file = join(dir, "inspect-openapi.json");
    const sourceFile = join(dir, "inspect-openapi.source.json");
    const commit = "0123456789abcdef0123456789abcdef01234567";
    body = readFileSync(INSPECT_SCHEMA_FILE, "utf8");
    await refreshInspectSchema({ commit, url: `${base}/schema.json`, file, sourceFile });
    expect(validateEvalLog(log, file)).toEqual([]);
    expect(JSON.parse(readFileSync(sourceFile, "utf8"))).toMatchObject({ commit });

    // A refreshed schema that the export no longer meets fails the check.
    const stricter = JSON.parse(body);
    stricter.components.schemas.EvalLog.required.push("specsci_never_writes_this");
    body = JSON.stringify(stricter);
    await refreshInspectSchema({ commit, url: `${base}/schema.json`, file, sourceFile });
    expect(validateEvalLog(log, file).join("\n")).toMatch(/specsci_never_writes_this/);
  });

  it("refuses a body that is not Inspect's schema, writing nothing", async () => {
    const dir = tempDir("specsci-schema-");
    const file = join(dir, "inspect-openapi.json");
    const refresh = () =>
      refreshInspectSchema({
        commit: "c",
        url: `${base}/x`,
        file,
        sourceFile: join(dir, "s.json"),
      });
    body = JSON.stringify({ openapi: "3.1.0" });
    await expect(refresh()).rejects.toThrow(/has no components.schemas.EvalLog/);
    body = "not json";
    await expect(refresh()).rejects.toThrow(/is not JSON/);
    body = "";
    await expect(refresh()).rejects.toThrow(/HTTP 404/);
    expect(() => readFileSync(file)).toThrow();
  });
});
