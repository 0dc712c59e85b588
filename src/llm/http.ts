import type { Agent, IncomingHttpHeaders } from "node:http";
import { createRequire } from "node:module";

/**
 * The `fetch` the provider SDKs use. Node's built-in fetch spends most of a small API call's CPU
 * in WHATWG stream plumbing (measured: a bare OpenAI SDK call at concurrency 64 managed ~1,950/s).
 * This adapter sends ordinary JSON requests through `node:http`/`node:https` with keep-alive
 * agents (the native HTTP parser; undici's `request`, used before, cost ~20 µs more a call in
 * its dispatcher and WebAssembly parser), reads the whole body (bounded by the caller's abort
 * signal, i.e. the per-attempt timeout) and hands the SDK a `BufferedResponse`: what the SDKs
 * read of a response, without a WHATWG Response and Headers that Node's fetch code would parse a
 * second time (issue 22). Anything unusual (multipart uploads, streamed bodies) goes through
 * Node's fetch unchanged: the SDKs build those with Node's own FormData, which only that fetch reads.
 * Like the undici agent before it, this ignores HTTP(S)_PROXY (Node's fetch does too).
 */
type NodeHttp = typeof import("node:http");
interface Transport {
  request: NodeHttp["request"];
  agent: Agent;
}
// Loaded with the first call, not when the CLI starts.
let transports: { "http:": Transport; "https:": Transport } | undefined;
function transportFor(protocol: string): Transport | undefined {
  if (!transports) {
    const load = createRequire(import.meta.url);
    const http = load("node:http") as NodeHttp;
    const https = load("node:https") as typeof import("node:https");
    // Sockets past the calls in flight wait in the agent; an idle one closes after 30 s (or
    // before the server's own keep-alive timeout, which Node reads from its Keep-Alive header).
    const options = { keepAlive: true, maxSockets: 256, maxFreeSockets: 256, timeout: 30_000 };
    transports = {
      "http:": { request: http.request, agent: new http.Agent(options) },
      "https:": { request: https.request as NodeHttp["request"], agent: new https.Agent(options) },
    };
  }
  return protocol === "http:" || protocol === "https:" ? transports[protocol] : undefined;
}

export const providerFetch: typeof fetch = (input, init) => {
  const body = init?.body;
  const simpleBody = body === undefined || body === null || typeof body === "string";
  const url = simpleBody && typeof input === "string" ? new URL(input) : undefined;
  const transport = url && transportFor(url.protocol);
  if (!url || !transport) return fetch(input, init);
  return send(
    transport,
    url,
    input as string,
    init?.method ?? "GET",
    headerRecord(init?.headers, body),
    (body ?? undefined) as string | undefined,
    init?.signal ?? undefined,
  ) as unknown as Promise<Response>;
};

/**
 * One request, its answer read whole. Errors are Node's own (`ECONNREFUSED`, `ECONNRESET` for a
 * reset or a "socket hang up"), which the SDKs wrap as connection errors; an abort rejects with
 * the signal's reason (an `AbortError`), as fetch does, and destroys the socket.
 */
function send(
  transport: Transport,
  url: URL,
  href: string,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  signal: AbortSignal | undefined,
): Promise<BufferedResponse> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    let settled = false;
    const fail = (e: unknown) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      req.destroy();
      reject(e);
    };
    const onAbort = () => fail(abortReason(signal as AbortSignal));
    const req = transport.request(
      {
        protocol: url.protocol,
        // URL keeps an IPv6 host in brackets; the socket wants it bare.
        hostname: url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        headers,
        agent: transport.agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", fail);
        // A body cut short (the server reset the connection) closes without completing.
        res.on("close", () => {
          if (!res.complete) fail(connectionReset("aborted"));
        });
        res.on("end", () => {
          if (settled) return;
          settled = true;
          signal?.removeEventListener("abort", onAbort);
          const status = res.statusCode ?? 0;
          // Responses that may not carry a body must be built without one.
          const noBody = status === 204 || status === 304 || method === "HEAD";
          const data = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
          resolve(
            new BufferedResponse(
              href,
              status,
              res.statusMessage ?? "",
              new ReceivedHeaders(res.headers),
              noBody ? null : data,
            ),
          );
        });
      },
    );
    req.on("error", fail);
    signal?.addEventListener("abort", onAbort, { once: true });
    req.end(body);
  });
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("This operation was aborted", "AbortError");
}

function connectionReset(message: string): Error {
  return Object.assign(new Error(message), { code: "ECONNRESET" });
}

/** The SDK's request headers (a `Headers`) as the plain record `node:http` takes. */
function headerRecord(
  init: RequestInit["headers"],
  body: RequestInit["body"],
): Record<string, string> {
  const out: Record<string, string> = {};
  // The SDKs pass a Headers; copying it into another one first (as `new Headers(init)`) is waste.
  const headers = init instanceof Headers ? init : new Headers(init);
  headers.forEach((value, key) => {
    out[key] = value;
  });
  // Sent with a length, never chunked, as fetch sends a string body.
  if (typeof body === "string") out["content-length"] = String(Buffer.byteLength(body));
  return out;
}

/**
 * The read side of WHATWG `Headers` over the record Node parsed (names already lower-case).
 * `get` joins repeated fields with ", " as `Headers` does.
 */
export class ReceivedHeaders {
  constructor(private readonly raw: IncomingHttpHeaders) {}

  get(name: string): string | null {
    const v = this.raw[name.toLowerCase()];
    if (v === undefined) return null;
    return Array.isArray(v) ? v.join(", ") : v;
  }

  has(name: string): boolean {
    return this.raw[name.toLowerCase()] !== undefined;
  }

  // The SDKs list every response's headers (looking for its request id): built once, no generator.
  private sorted: [string, string][] | undefined;

  entries(): IterableIterator<[string, string]> {
    if (!this.sorted) {
      this.sorted = [];
      for (const key of Object.keys(this.raw).sort()) {
        const v = this.get(key);
        if (v !== null) this.sorted.push([key, v]);
      }
    }
    return this.sorted[Symbol.iterator]();
  }

  *keys(): IterableIterator<string> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): IterableIterator<string> {
    for (const [, v] of this.entries()) yield v;
  }

  forEach(fn: (value: string, key: string, parent: ReceivedHeaders) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

/**
 * A response whose body has been read whole: the members of WHATWG `Response` the OpenAI and
 * Anthropic SDKs read (status, ok, url, headers.get/entries, json, text; `body` for their
 * streaming paths, such as Anthropic's batch results, built only when asked for). The body can
 * be read once, as a Response's can.
 */
export class BufferedResponse {
  readonly ok: boolean;
  readonly redirected = false;
  readonly type = "basic";
  private used = false;
  private stream: ReadableStream<Uint8Array> | null | undefined;

  constructor(
    readonly url: string,
    readonly status: number,
    readonly statusText: string,
    readonly headers: ReceivedHeaders,
    private readonly data: Uint8Array | null,
  ) {
    this.ok = status >= 200 && status < 300;
  }

  get bodyUsed(): boolean {
    return this.used;
  }

  get body(): ReadableStream<Uint8Array> | null {
    if (this.stream === undefined) {
      // Bytes Node allocated: never a SharedArrayBuffer, as the DOM typings want to be told.
      this.stream =
        this.data === null ? null : new Response(this.data as Uint8Array<ArrayBuffer>).body;
    }
    return this.stream;
  }

  async text(): Promise<string> {
    const bytes = this.take();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = this.take();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  async bytes(): Promise<Uint8Array> {
    return this.take();
  }

  async blob(): Promise<Blob> {
    return new Blob([this.take() as Uint8Array<ArrayBuffer>]);
  }

  private take(): Uint8Array {
    if (this.used) throw new TypeError("Body is unusable: Body has already been read");
    this.used = true;
    return this.data ?? new Uint8Array(0);
  }
}
