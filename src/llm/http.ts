import type { IncomingHttpHeaders } from "node:http";
import { createRequire } from "node:module";
import type { Agent } from "undici";

/**
 * The `fetch` the provider SDKs use. Node's built-in fetch spends most of a small API call's CPU
 * in WHATWG stream plumbing (measured: a bare OpenAI SDK call at concurrency 64 managed ~1,950/s);
 * undici's `request` API, underneath that same fetch, does the same HTTP work for less than half
 * the CPU (~4,700/s). This adapter sends ordinary JSON requests through `request`, reads the whole
 * body (bounded by the caller's abort signal, i.e. the per-attempt timeout) and hands the SDK a
 * `BufferedResponse`: what the SDKs read of a response, without building a WHATWG Response and
 * Headers that Node's fetch code would parse a second time (issue 22: that wrapping cost about a
 * fifth of an uncached call). Anything unusual (multipart uploads, streamed bodies) goes through
 * Node's fetch unchanged: the SDKs build those with Node's own FormData, which only that fetch reads.
 */
// undici is loaded with the first call, not when the CLI starts (~0.1 s of every command).
let undici: { request: typeof import("undici").request; agent: Agent } | undefined;
function http() {
  if (!undici) {
    const u = createRequire(import.meta.url)("undici") as typeof import("undici");
    undici = {
      request: u.request,
      agent: new u.Agent({ keepAliveTimeout: 30_000, connections: 256 }),
    };
  }
  return undici;
}

export const providerFetch: typeof fetch = async (input, init) => {
  const body = init?.body;
  const simpleBody = body === undefined || body === null || typeof body === "string";
  if (!simpleBody || typeof input !== "string") {
    return fetch(input, init);
  }
  const { request, agent } = http();
  const res = await request(input, {
    method: (init?.method ?? "GET") as "GET",
    headers: headerRecord(init?.headers),
    body: body ?? null,
    signal: init?.signal ?? undefined,
    dispatcher: agent,
  });
  const data = await res.body.bytes();
  // Responses that may not carry a body must be built without one.
  const noBody = res.statusCode === 204 || res.statusCode === 304 || init?.method === "HEAD";
  // Only the members the SDKs use are there (see BufferedResponse); a cast, not a conversion.
  return new BufferedResponse(
    input,
    res.statusCode,
    res.statusText,
    new ReceivedHeaders(res.headers),
    noBody ? null : data,
  ) as unknown as Response;
};

/** The SDK's request headers (a `Headers`) as the plain record undici takes. */
function headerRecord(init: RequestInit["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  // The SDKs pass a Headers; copying it into another one first (as `new Headers(init)`) is waste.
  const headers = init instanceof Headers ? init : new Headers(init);
  headers.forEach((value, key) => {
    out[key] = value;
  });
  return out;
}

/**
 * The read side of WHATWG `Headers` over the record undici parsed (names already lower-case).
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

  *entries(): IterableIterator<[string, string]> {
    for (const key of Object.keys(this.raw).sort()) {
      const v = this.get(key);
      if (v !== null) yield [key, v];
    }
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
      // Bytes undici allocated: never a SharedArrayBuffer, as the DOM typings want to be told.
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
