import { createRequire } from "node:module";
import type { Agent } from "undici";

/**
 * The `fetch` the provider SDKs use. Node's built-in fetch spends most of a small API call's CPU
 * in WHATWG stream plumbing (measured: a bare OpenAI SDK call at concurrency 64 managed ~1,950/s);
 * undici's `request` API, underneath that same fetch, does the same HTTP work for less than half
 * the CPU (~4,700/s). This adapter sends ordinary JSON requests through `request`, reads the whole
 * body (bounded by the caller's abort signal, i.e. the per-attempt timeout) and hands the SDK a
 * standard Response. Anything unusual (multipart uploads, streamed bodies) goes through Node's
 * fetch unchanged: the SDKs build those with Node's own FormData, which only that fetch reads.
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
  const headers: Record<string, string> = {};
  new Headers(init?.headers).forEach((value, key) => {
    headers[key] = value;
  });
  const { request, agent } = http();
  const res = await request(input, {
    method: (init?.method ?? "GET") as "GET",
    headers,
    body: body ?? null,
    signal: init?.signal ?? undefined,
    dispatcher: agent,
  });
  const data = await res.body.arrayBuffer();
  const out = new Headers();
  for (const [key, value] of Object.entries(res.headers)) {
    if (Array.isArray(value)) for (const v of value) out.append(key, v);
    else if (value !== undefined) out.set(key, value);
  }
  // Responses that may not carry a body must be built without one.
  const noBody = res.statusCode === 204 || res.statusCode === 304 || init?.method === "HEAD";
  return new Response(noBody ? null : data, { status: res.statusCode, headers: out });
};
