import { createServer, type Server } from "node:http";
import { type AddressInfo, createServer as createTcpServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { providerFetch } from "./http.js";

let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      if (req.url === "/hang") return; // never answers: only an abort ends it
      if (req.url === "/cut") {
        // Headers and half the promised body, then the connection is reset.
        res.writeHead(200, { "content-length": "100" });
        res.write("x".repeat(50), () => res.socket?.destroy());
        return;
      }
      if (req.url === "/length") {
        const h = req.headers;
        res.end(JSON.stringify({ length: h["content-length"], chunked: h["transfer-encoding"] }));
        return;
      }
      if (req.url === "/empty") {
        res.writeHead(204).end();
        return;
      }
      res.setHeader("Content-Type", "application/json");
      res.setHeader("Retry-After", "2");
      res.setHeader("X-Multi", ["a", "b"]);
      res.writeHead(req.url === "/limited" ? 429 : 200);
      res.end(JSON.stringify({ method: req.method, auth: req.headers.authorization, body }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

describe("providerFetch", () => {
  it("sends the SDK's method, headers and body, and answers with what the SDKs read", async () => {
    const res = await providerFetch(`${url}/ok`, {
      method: "POST",
      headers: new Headers({ Authorization: "Bearer k" }),
      body: '{"x":1}',
    });
    expect([res.status, res.ok, res.url]).toEqual([200, true, `${url}/ok`]);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("Retry-After")).toBe("2"); // names are case-insensitive
    expect(res.headers.has("RETRY-AFTER")).toBe(true);
    expect(res.headers.get("x-multi")).toBe("a, b"); // repeated fields joined as Headers joins them
    expect(res.headers.get("x-absent")).toBeNull();
    expect([...res.headers.entries()].map(([k]) => k)).toEqual(
      [...res.headers.keys()].sort(), // in name order, as Headers iterates
    );
    expect(await res.json()).toEqual({ method: "POST", auth: "Bearer k", body: '{"x":1}' });
    await expect(res.text()).rejects.toThrow(/already been read/);
  });

  it("gives an error status with its headers, and a stream of the body to those who stream", async () => {
    const res = await providerFetch(`${url}/limited`, { method: "POST", body: "" });
    expect([res.status, res.ok]).toEqual([429, false]);
    expect(res.headers.get("retry-after")).toBe("2");
    const streamed = await new Response(res.body).text();
    expect(JSON.parse(streamed)).toMatchObject({ method: "POST" });
  });

  it("gives no body where the status allows none", async () => {
    const res = await providerFetch(`${url}/empty`, { method: "DELETE" });
    expect(res.status).toBe(204);
    expect(res.body).toBeNull();
    expect(await res.text()).toBe("");
  });

  it("aborts by the caller's signal with its reason, closing the request", async () => {
    const controller = new AbortController();
    const pending = providerFetch(`${url}/hang`, {
      method: "POST",
      body: "{}",
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    const aborted = AbortSignal.abort();
    await expect(providerFetch(`${url}/ok`, { method: "POST", signal: aborted })).rejects.toBe(
      aborted.reason,
    );
  });

  it("fails with Node's error codes, which errors.ts classifies: a body cut short, a refused connection", async () => {
    await expect(providerFetch(`${url}/cut`, { method: "POST", body: "" })).rejects.toMatchObject({
      code: "ECONNRESET",
    });
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(
      providerFetch(`http://127.0.0.1:${port}/`, { method: "GET" }),
    ).rejects.toMatchObject({
      code: "ECONNREFUSED",
    });
  });

  it("sends a string body with its length in bytes, not chunked", async () => {
    const res = await providerFetch(`${url}/length`, { method: "POST", body: "é".repeat(3) });
    expect(await res.json()).toEqual({ length: "6" });
  });

  it("does not reuse a keep-alive socket the server closed while it sat idle", async () => {
    // A server that promises nothing (no Keep-Alive hint) and drops each idle connection soon
    // after answering, as proxies do: the next call must go out on a fresh socket.
    const answer =
      "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
    const sockets = new Set<string>();
    const tcp = createTcpServer((socket) => {
      sockets.add(`${socket.remotePort}`);
      socket.once("data", () => {
        socket.write(answer);
        setTimeout(() => socket.destroy(), 20);
      });
    });
    await new Promise<void>((r) => tcp.listen(0, "127.0.0.1", r));
    const base = `http://127.0.0.1:${(tcp.address() as AddressInfo).port}`;
    try {
      expect((await providerFetch(`${base}/a`, { method: "POST", body: "{}" })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 80));
      expect((await providerFetch(`${base}/b`, { method: "POST", body: "{}" })).status).toBe(200);
      expect(sockets.size).toBe(2);
    } finally {
      await new Promise((r) => tcp.close(r));
    }
  });
});
