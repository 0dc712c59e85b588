/**
 * A loopback stand-in for the Hugging Face Hub's file endpoint: `HEAD` and `GET` on
 * `/{owner}/{repo}/resolve/{revision}/{file}`, with `x-linked-etag` (sha256) and `x-linked-size`
 * as the Hub sends for LFS files, HTTP Range support, and switches for the failures we handle.
 */
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface HfFile {
  body: Buffer;
  /** Cut the connection after this many bytes of the next GET (once). */
  dropAfter?: number;
  /** Advertise a wrong checksum. */
  wrongSha?: boolean;
  /** Require this bearer token (a gated repository). */
  token?: string;
}

export class FakeHfServer {
  private server: Server;
  readonly files = new Map<string, HfFile>();
  readonly log: {
    method: string;
    path: string;
    range: string | undefined;
    auth: string | undefined;
  }[] = [];
  port = 0;

  constructor() {
    this.server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
      this.log.push({
        method: req.method ?? "",
        path,
        range: req.headers.range,
        auth: req.headers.authorization,
      });
      const file = this.files.get(path);
      if (!file) {
        res.writeHead(404).end("Entry not found");
        return;
      }
      if (file.token && req.headers.authorization !== `Bearer ${file.token}`) {
        res.writeHead(401).end("Access to this model is restricted");
        return;
      }
      const sha = file.wrongSha
        ? "0".repeat(64)
        : createHash("sha256").update(file.body).digest("hex");
      const headers = {
        "x-linked-etag": `"${sha}"`,
        "x-linked-size": String(file.body.length),
        etag: `"${sha}"`,
      };
      if (req.method === "HEAD") {
        res.writeHead(200, { ...headers, "content-length": file.body.length }).end();
        return;
      }
      let start = 0;
      const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
      if (m) start = Number(m[1]);
      const chunk = file.body.subarray(start);
      res.writeHead(m ? 206 : 200, {
        ...headers,
        "content-length": chunk.length,
        ...(m
          ? { "content-range": `bytes ${start}-${file.body.length - 1}/${file.body.length}` }
          : {}),
      });
      if (file.dropAfter !== undefined) {
        const cut = file.dropAfter;
        file.dropAfter = undefined;
        // Closed with a FIN, short of content-length: a reset (destroy) would make the client's
        // kernel drop bytes it had not read yet, so under load the cut point was not `cut`.
        res.write(chunk.subarray(0, cut), () => res.socket?.end());
        return;
      }
      res.end(chunk);
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
