import { createHash } from "node:crypto";
import { once } from "node:events";
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { envVar } from "../../core/env.js";
import { SpecsciError } from "../../core/errors.js";
import { readSecret } from "../../core/secrets.js";

export interface HfFileRef {
  owner: string;
  repo: string;
  revision: string;
  file: string;
}

/** Parses `owner/repo/path/to/file.gguf` or `owner/repo@revision/path/to/file.gguf`. */
export function parseHfRef(ref: string): HfFileRef {
  const parts = ref.split("/");
  if (parts.length < 3 || parts.some((p) => p === "" || p === "." || p === "..")) {
    throw new SpecsciError(`"hf:${ref}" is not of the form hf:owner/repo/file.gguf`, {
      hint: "e.g. local/hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf",
    });
  }
  const [owner, repoRev, ...rest] = parts as [string, string, ...string[]];
  const [repo, revision = "main"] = repoRev.split("@") as [string, string?];
  return { owner, repo, revision, file: rest.join("/") };
}

export function hfEndpoint(): string {
  return (envVar("HF_ENDPOINT") ?? "https://huggingface.co").replace(/\/+$/, "");
}

export function hfCachePath(cacheDir: string, ref: HfFileRef): string {
  return join(cacheDir, "hf", ref.owner, ref.repo, ref.revision, ...ref.file.split("/"));
}

export type DownloadProgress = (received: number, total: number | undefined) => void;

/**
 * Downloads one file from a Hugging Face model repository into the cache, once. Written on top of
 * fetch rather than node-llama-cpp's downloader so that we control the cache location, resume
 * interrupted downloads (HTTP Range on a `.part` file), verify the size and the sha256 the Hub
 * publishes for LFS files (`x-linked-etag`), and can test all of it against a loopback server
 * (HF_ENDPOINT). HF_TOKEN, when set, is sent for gated repositories and stored nowhere.
 */
export async function downloadHfFile(
  ref: HfFileRef,
  cacheDir: string,
  onProgress?: DownloadProgress,
): Promise<string> {
  const target = hfCachePath(cacheDir, ref);
  if (existsSync(target)) return target;
  mkdirSync(dirname(target), { recursive: true });
  const url = `${hfEndpoint()}/${ref.owner}/${ref.repo}/resolve/${encodeURIComponent(ref.revision)}/${ref.file
    .split("/")
    .map(encodeURIComponent)
    .join("/")}`;
  const token = readSecret("HF_TOKEN");
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const label = `hf:${ref.owner}/${ref.repo}/${ref.file}`;

  // The Hub answers HEAD on the resolve URL with the LFS object's sha256 and size.
  const head = await request(url, { method: "HEAD", headers, redirect: "manual" }, label);
  const expectedSha = normalizeEtag(head.headers.get("x-linked-etag") ?? head.headers.get("etag"));
  const linkedSize = Number(head.headers.get("x-linked-size") ?? Number.NaN);

  const part = `${target}.part`;
  let offset = existsSync(part) ? statSync(part).size : 0;
  const res = await request(
    url,
    {
      headers: offset > 0 ? { ...headers, range: `bytes=${offset}-` } : headers,
      redirect: "follow",
    },
    label,
  );
  if (res.status !== 206) offset = 0; // the server ignored the range: start over
  const length = Number(res.headers.get("content-length") ?? Number.NaN);
  const total = Number.isFinite(linkedSize)
    ? linkedSize
    : Number.isFinite(length)
      ? offset + length
      : undefined;
  if (!res.body) throw new SpecsciError(`${label}: the server sent no body`);

  onProgress?.(offset, total);
  const body = Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>);
  const { received, error } = await appendBody(body, part, offset, (n) => onProgress?.(n, total));
  if (error) {
    throw new SpecsciError(
      `${label}: download interrupted after ${received} bytes: ${error.message}`,
      {
        hint: "run the command again to resume the download",
      },
    );
  }

  const size = statSync(part).size;
  if (total !== undefined && size !== total) {
    throw new SpecsciError(`${label}: downloaded ${size} bytes but expected ${total}`, {
      hint: "run the command again to resume the download",
    });
  }
  if (expectedSha) {
    const actual = await sha256File(part);
    if (actual !== expectedSha) {
      rmSync(part, { force: true });
      throw new SpecsciError(
        `${label}: checksum mismatch (expected sha256 ${expectedSha}, got ${actual})`,
        {
          hint: "the partial file was removed; run the command again to download it afresh",
        },
      );
    }
  }
  renameSync(part, target);
  return target;
}

async function request(url: string, init: RequestInit, label: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new SpecsciError(
      `${label}: cannot reach ${new URL(url).origin} (${cause?.code ?? cause?.message ?? (e as Error).message})`,
      {
        hint: "check the network (or HF_ENDPOINT), or download the .gguf yourself and use local/<path>",
      },
    );
  }
  if (res.status >= 300 && res.status < 400 && init.redirect === "manual") return res;
  if (res.status === 401 || res.status === 403) {
    throw new SpecsciError(
      `${label}: access denied (HTTP ${res.status}); the repository may be gated or private`,
      {
        hint: "accept its terms on huggingface.co and set HF_TOKEN",
      },
    );
  }
  if (res.status === 404) {
    throw new SpecsciError(`${label}: not found on ${new URL(url).origin} (HTTP 404)`, {
      hint: "check the owner, repository, revision and file name",
    });
  }
  if (!res.ok) throw new SpecsciError(`${label}: download failed with HTTP ${res.status}`);
  return res;
}

function normalizeEtag(etag: string | null): string | undefined {
  const v = etag?.replace(/^W\//, "").replace(/"/g, "");
  return v && /^[0-9a-f]{64}$/.test(v) ? v : undefined;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * Writes the body to the `.part` file and, when the connection breaks, still flushes every byte
 * received before closing it. Written by hand rather than with `pipeline`: pipeline destroys the
 * file stream on a body error and drops the writes still queued (all of them, if the file had not
 * opened yet), so the resumed download would start from fewer bytes than arrived, or from none.
 */
async function appendBody(
  body: Readable,
  part: string,
  offset: number,
  onReceived: (received: number) => void,
): Promise<{ received: number; error?: Error }> {
  const file = createWriteStream(part, { flags: offset > 0 ? "a" : "w" });
  let writeError: Error | undefined;
  file.on("error", (e) => {
    writeError ??= e;
  });
  let received = offset;
  let error: Error | undefined;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (writeError) break;
      received += chunk.length;
      onReceived(received);
      if (!file.write(chunk)) await once(file, "drain");
    }
  } catch (e) {
    error = e as Error;
  }
  await new Promise<void>((resolve) => file.end(resolve));
  // A disk that fails (full, read-only) is not an interrupted download: resuming will not help.
  if (writeError) throw writeError;
  return error ? { received, error } : { received };
}
