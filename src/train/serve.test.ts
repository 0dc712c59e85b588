import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForModels } from "./serve.js";

// A loopback stand-in for a serving engine's /v1/models.
const server = createServer((_req, res) => {
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ data: [{ id: "Qwen/Qwen3-8B" }, { id: "Qwen/Qwen3-8B:rules" }] }));
});
let url: string;
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("waitForModels", () => {
  it("returns once the server lists every name", async () => {
    await expect(waitForModels(url, ["Qwen/Qwen3-8B"], 1000)).resolves.toBeUndefined();
  });

  it("names what the server does not list, with the closest name it does", async () => {
    await expect(waitForModels(url, ["Qwen/Qwen3-8b"], 300)).rejects.toThrow(
      /does not list Qwen\/Qwen3-8b \(did you mean Qwen\/Qwen3-8B\?\)/,
    );
  });
});
