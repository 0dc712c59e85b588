/**
 * Replicas of one served model as one endpoint: balanced by calls in flight, a replica that
 * refuses connections or answers a burst of 5xx taken out and brought back by its health check,
 * one replica per attempt, a shared cache, and the replica recorded with every call. Against
 * loopback OpenAI-compatible servers through the real SDK, and against scripted models for the
 * ejection rules.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { callMany } from "../../src/llm/client.js";
import { ModelCallError } from "../../src/llm/errors.js";
import { ReplicaSet, replicaHealthy } from "../../src/llm/replicas.js";
import type { ChatRequest, ProviderModel, ProviderResult } from "../../src/llm/types.js";
import { FakeLlmServer } from "../fakes/llm-server.js";
import { cleanupTempDirs, FAST_RETRIES, makeClient } from "../helpers.js";

const servers: FakeLlmServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
  cleanupTempDirs();
});
const started = async (o: ConstructorParameters<typeof FakeLlmServer>[0] = {}) => {
  const s = await new FakeLlmServer({ record: true, ...o }).start();
  servers.push(s);
  return s;
};
const ask = (text: string): ChatRequest => ({
  messages: [{ role: "user", content: text }],
  params: { max_tokens: 16 },
});
const chats = (s: FakeLlmServer) =>
  s.requests.filter((r) => r.path.endsWith("/chat/completions")).length;

describe("an endpoint with several base URLs", () => {
  it("spreads calls over the replicas, shares one cache and records the replica of each call", async () => {
    const [a, b] = [await started({ latencyMs: 20 }), await started({ latencyMs: 20 })];
    const urls = [`${a?.url}/v1`, `${b?.url}/v1`];
    const { client, store } = makeClient({
      endpoints: { pool: { base_url: urls, max_in_flight: 8 } },
    });
    const model = client.model("pool/served");
    const reqs = Array.from({ length: 40 }, (_, i) => ask(`balanced ${i}`));
    const out = await callMany(model, reqs, {});
    expect(out.every((o) => o.ok && o.source === "api")).toBe(true);
    // Least in flight: with 8 at a time over two equal servers, each takes about half.
    expect(chats(a as FakeLlmServer)).toBeGreaterThanOrEqual(12);
    expect(chats(b as FakeLlmServer)).toBeGreaterThanOrEqual(12);
    expect(chats(a as FakeLlmServer) + chats(b as FakeLlmServer)).toBe(40);
    const perReplica = store.llm.replicaUsage();
    expect(perReplica.map((r) => r.replica)).toEqual([...urls].sort());
    expect(perReplica.reduce((n, r) => n + r.calls, 0)).toBe(40);
    expect(perReplica.find((r) => r.replica === urls[0])?.calls).toBe(chats(a as FakeLlmServer));
    // The same requests again: all from the one cache, whichever replica first answered.
    const again = await callMany(model, reqs, {});
    expect(again.every((o) => o.ok && o.source === "cache")).toBe(true);
    expect(chats(a as FakeLlmServer) + chats(b as FakeLlmServer)).toBe(40);
    // Adding a replica keeps the cache: a one-URL endpoint on the first replica hits it too.
    const single = makeClient({ endpoints: { pool: { base_url: urls[0] } } });
    const cacheOfPool = store.llm.cacheGet(again[0]?.cacheKey as string);
    const keyAlone = await single.client.model("pool/served").call(reqs[0] as ChatRequest);
    expect(keyAlone.cacheKey).toBe(cacheOfPool?.key);
  });

  it("a replica that refuses connections is taken out: every call still succeeds on the other", async () => {
    const live = await started();
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, "127.0.0.1", r));
    const deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}/v1`;
    await new Promise<void>((r) => dead.close(() => r()));
    const { client, store } = makeClient({
      defaults: FAST_RETRIES,
      endpoints: { pool: { base_url: [deadUrl, `${live.url}/v1`], max_in_flight: 4 } },
    });
    const out = await callMany(
      client.model("pool/served"),
      Array.from({ length: 12 }, (_, i) => ask(`failover ${i}`)),
      {},
    );
    expect(out.every((o) => o.ok)).toBe(true);
    expect(chats(live)).toBe(12);
    // At most the calls in flight when it went out tried the dead one, once each.
    expect(out.filter((o) => o.attempts > 1).length).toBeLessThanOrEqual(4);
    expect(store.llm.replicaUsage().map((r) => [r.replica, r.ok])).toEqual([
      [`${live.url}/v1`, 12],
    ]);
  });

  it("a failure is recorded with the replica it happened on", async () => {
    const a = await started();
    const b = await started();
    const { client, store } = makeClient({
      defaults: FAST_RETRIES,
      endpoints: { pool: { base_url: [`${a.url}/v1`, `${b.url}/v1`] } },
    });
    const out = await client.model("pool/served").call(ask("refused [[fault=400]]"));
    expect(out.ok).toBe(false);
    const [row] = store.llm.calls();
    expect(row).toMatchObject({ status: "failed", httpStatus: 400, replica: `${a.url}/v1` });
  });
});

/** A scripted replica: answers, or throws what `fail` says for the call number. */
function scripted(fail: (n: number) => ModelCallError | undefined) {
  let n = 0;
  const model: ProviderModel & { calls: () => number } = {
    id: "x",
    identity: { base_url: "x" },
    calls: () => n,
    async complete(): Promise<ProviderResult> {
      const e = fail(++n);
      if (e) throw e;
      return {
        text: "ok",
        stopReason: "end",
        providerStopReason: "stop",
        usage: { input_tokens: 1, output_tokens: 1 },
      };
    },
  };
  return model;
}
const signal = new AbortController().signal;

describe("ReplicaSet", () => {
  it("a burst of 5xx takes a replica out; its health check brings it back", async () => {
    let healthy = false;
    const flaky = scripted((n) => (n <= 3 ? new ModelCallError("server", "502") : undefined));
    const steady = scripted(() => undefined);
    const set = new ReplicaSet(
      "pool/m",
      [
        { url: "http://a/v1", model: flaky },
        { url: "http://b/v1", model: steady },
      ],
      { serverErrors: 3, windowMs: 60_000, checkEveryMs: 10 },
      async () => healthy,
    );
    // Nothing in flight between calls: ties go to the first replica, so it takes each until out.
    for (let i = 0; i < 3; i++)
      await expect(set.complete(ask("x"), signal, 1000)).rejects.toMatchObject({
        kind: "server",
        replica: "http://a/v1",
      });
    expect(set.state().map((r) => r.out)).toEqual([true, false]);
    const answered = await set.complete(ask("x"), signal, 1000);
    expect(answered.replica).toBe("http://b/v1");
    expect(flaky.calls()).toBe(3);
    healthy = true;
    await new Promise((r) => setTimeout(r, 50));
    expect(set.state().map((r) => r.out)).toEqual([false, false]);
    expect((await set.complete(ask("x"), signal, 1000)).replica).toBe("http://a/v1");
  });

  it("errors of the request (400, auth) leave the replica in; each attempt goes to one replica", async () => {
    const a = scripted(() => new ModelCallError("bad_request", "400", { httpStatus: 400 }));
    const b = scripted(() => undefined);
    const set = new ReplicaSet("pool/m", [
      { url: "http://a/v1", model: a },
      { url: "http://b/v1", model: b },
    ]);
    for (let i = 0; i < 5; i++) await set.complete(ask("x"), signal, 1000).catch(() => {});
    expect(set.state().every((r) => !r.out)).toBe(true);
    expect(a.calls() + b.calls()).toBe(5);
  });

  it("with every replica out, a call fails as a retryable connection error naming them", async () => {
    const down = () => new ModelCallError("connection", "ECONNREFUSED");
    const set = new ReplicaSet(
      "pool/m",
      [
        { url: "http://a/v1", model: scripted(down) },
        { url: "http://b/v1", model: scripted(down) },
      ],
      undefined,
      async () => false,
    );
    await set.complete(ask("x"), signal, 1000).catch(() => {});
    await set.complete(ask("x"), signal, 1000).catch(() => {});
    const e = await set.complete(ask("x"), signal, 1000).catch((x: ModelCallError) => x);
    expect(e).toMatchObject({ kind: "connection", retryable: true });
    expect((e as Error).message).toBe(
      "pool/m: all 2 replicas are out (http://a/v1, http://b/v1); waiting for a health check to bring one back",
    );
  });

  it("the health check asks /health at the origin, then /models under the base URL", async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(req.url as string);
      res.statusCode = req.url === "/v1/models" ? 200 : 404;
      res.end("{}");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    expect(await replicaHealthy(url)).toBe(true);
    expect(seen).toEqual(["/health", "/v1/models"]);
    await new Promise<void>((r) => server.close(() => r()));
    expect(await replicaHealthy(url)).toBe(false);
  });
});
