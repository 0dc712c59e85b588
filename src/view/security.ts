/**
 * What keeps the dashboard the user's own: a page on another site must not read it (DNS
 * rebinding: a foreign name resolving to 127.0.0.1 carries its own Host header), nor change it
 * (CSRF: state-changing requests need this process's token and a same-origin request), nor run
 * script in it (a strict Content-Security-Policy behind the escaping the pages already do).
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";
import type { MiddlewareHandler } from "hono";

/** The header a state-changing request carries the session token in. */
export const TOKEN_HEADER = "x-specsci-token";

/** A fresh per-process token (never written anywhere; it reaches the page in index.html). */
export const newSessionToken = (): string => randomBytes(32).toString("base64url");

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join("; ");

const SECURITY_HEADERS: Record<string, string> = {
  "Content-Security-Policy": CONTENT_SECURITY_POLICY,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
};

const LOOPBACK_NAMES = ["127.0.0.1", "localhost", "[::1]"];
const WILDCARDS = new Set(["0.0.0.0", "::", "[::]"]);

/** `::1` → `[::1]`: how an IPv6 address appears in a Host header. */
const hostForm = (host: string) => (isIP(host) === 6 ? `[${host}]` : host.toLowerCase());

/**
 * The Host headers this server answers to: its bound address and the loopback names, with its
 * port. Bound to every interface (`--host 0.0.0.0`), any IP literal is accepted too: a rebinding
 * attack needs a domain name, and the machine's addresses are not known in advance.
 */
export function hostAllowed(header: string | undefined, bound: string, port: number): boolean {
  if (!header) return false;
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+):(\d+)$/i.exec(header.trim());
  if (!m || Number(m[2]) !== port) return false;
  const name = (m[1] as string).toLowerCase();
  if (name === hostForm(bound) || LOOPBACK_NAMES.includes(name)) return true;
  const literal = name.startsWith("[") ? name.slice(1, -1) : name;
  return WILDCARDS.has(bound) && isIP(literal) !== 0;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

function sameToken(given: string | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Why a state-changing request is refused, or null when it may go on: it carries the token,
 * and what the browser says of its origin (Origin, Sec-Fetch-Site) is this server.
 */
function csrfProblem(
  headers: { origin?: string; site?: string; token?: string },
  host: string,
  token: string,
): string | null {
  if (!sameToken(headers.token, token))
    return `missing or wrong ${TOKEN_HEADER} header: state-changing requests come from the dashboard's own page`;
  if (headers.origin !== undefined && headers.origin !== `http://${host}`)
    return `Origin ${headers.origin} is not this server (http://${host})`;
  if (headers.site !== undefined && headers.site !== "same-origin")
    return `Sec-Fetch-Site is ${headers.site}: only same-origin requests may change anything`;
  return null;
}

/** Every check and header above, as one middleware in front of every route. */
export function securityMiddleware(opts: {
  host: string;
  port: () => number;
  token: string;
}): MiddlewareHandler {
  return async (c, next) => {
    const host = c.req.header("host");
    if (!hostAllowed(host, opts.host, opts.port())) {
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.header(k, v);
      return c.text(
        `specsci view refused this request: its Host header (${host ?? "none"}) is not this server's address. Open the URL \`specsci view\` printed (http://127.0.0.1:${opts.port()}/).\n`,
        421,
      );
    }
    if (!SAFE_METHODS.has(c.req.method)) {
      const problem = csrfProblem(
        {
          origin: c.req.header("origin"),
          site: c.req.header("sec-fetch-site"),
          token: c.req.header(TOKEN_HEADER),
        },
        host as string,
        opts.token,
      );
      if (problem) {
        for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.header(k, v);
        return c.json({ error: `refused: ${problem}` }, 403);
      }
    }
    await next();
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(k, v);
  };
}
