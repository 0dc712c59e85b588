/**
 * A loopback fake of the Anthropic Messages + Message Batches API and the OpenAI Chat
 * Completions + Files + Batch API, speaking their wire formats so the official SDKs can drive it.
 *
 * Answers are a pure function of the request ("answer to: <last user message>", plus the seed if
 * any), so a test can tell which request any answer belongs to. Faults are requested inside the
 * last user message with a directive such as `[[fault=429 times=2 retry_after=0.05]]`: the first
 * `times` attempts of that prompt fail that way (default: every attempt), then it succeeds.
 * Batch items take `[[batch=expired times=1]]`, `[[batch=errored]]`, `[[batch=missing times=1]]`.
 */

import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ChatRequest } from "../../src/llm/types.js";
import {
  AFT_TEACHER_MARK,
  AFT_WRITER_PREFIX,
  aftTeacherAnswer,
  aftWriterAnswer,
} from "./aft-teacher.js";
import { MSM_SYSTEM_PREFIX, msmAnswer } from "./msm-writer.js";
import { prefWriterAnswer } from "./pref-writer.js";
import { fakeReasoningAnswer } from "./reasoning-labeller.js";
import { SPEC_WRITER_PREFIX, writeLikeAGoodModel } from "./spec-writer.js";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: unknown;
}

export interface FakeServerOptions {
  /** Keys the server accepts; a request with another key gets 401 (and its message echoes the key). */
  anthropicKey?: string;
  openaiKey?: string;
  /** Delay before every chat response. */
  latencyMs?: number;
  /** How many status polls a batch stays in progress. */
  batchPolls?: number;
  /** Keep a log of requests (off for benchmarks). */
  record?: boolean;
  /** Append a random nonce to every answer, so repeated samples differ as real ones would. */
  vary?: boolean;
  /** Reject this many batch creations with HTTP 400 (then accept). */
  rejectBatches?: number;
  /** Let this many OpenAI batches fail validation after creation (status "failed"). */
  failBatches?: number;
  /** Answer OpenAI chat requests that ask for log-probabilities with HTTP 400, as OpenAI's reasoning models do. */
  rejectLogprobs?: boolean;
  /**
   * A scripted OpenAI chat answer, with the log-probabilities of its tokens (sent only when the
   * request asks for them, cut to its `top_logprobs`); undefined leaves the default answer.
   */
  chatReply?: (body: OpenAIChatBody) => { content: string; logprobs?: WireLogprob[] } | undefined;
  /** Send OpenAI chat answers without `usage`, as some compatible servers do. */
  withoutUsage?: boolean;
}

/** A token of `choices[0].logprobs.content` as the Chat Completions API sends it (bytes left out). */
export interface WireLogprob {
  token: string;
  logprob: number;
  top_logprobs: { token: string; logprob: number }[];
}

type OpenAIChatBody = OpenAIBatch["lines"][number]["body"];

interface Directive {
  kind: string;
  times: number;
  params: Record<string, string>;
}

function parseDirective(text: string, name: "fault" | "batch"): Directive | undefined {
  const m = new RegExp(`\\[\\[${name}=([a-z0-9_]+)([^\\]]*)\\]\\]`).exec(text);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const kv of (m[2] ?? "").trim().split(/\s+/)) {
    const [k, v] = kv.split("=");
    if (k && v !== undefined) params[k] = v;
  }
  return {
    kind: m[1] as string,
    times: params.times === undefined ? Number.POSITIVE_INFINITY : Number(params.times),
    params,
  };
}

type Msg = { role: string; content: string | { type: string; text?: string }[] };

function lastUserText(messages: Msg[]): string {
  const m = [...messages].reverse().find((x) => x.role === "user");
  if (!m) return "";
  return typeof m.content === "string" ? m.content : m.content.map((b) => b.text ?? "").join("");
}

/** The reasoning-analysis prompts (labels, misuse readings, discovery), by a phrase of each. */
const REASONING_PROMPTS = [
  "which patterns of reasoning it shows",
  "Compare the claim with the rule's actual text",
  "What drove its decision?",
  "Group drivers that mean the same thing",
];

export function answerFor(messages: Msg[], seed?: number, system?: string): string {
  const sys = system ?? messages.find((m) => m.role === "system")?.content;
  if (typeof sys === "string" && sys.startsWith("You review transcripts"))
    return judgeVerdict(lastUserText(messages));
  if (typeof sys === "string" && sys.startsWith("You grade the answers an AI assistant gave"))
    return rubricVerdict(lastUserText(messages));
  if (typeof sys === "string" && sys.startsWith("You grade how well an AI model recalls"))
    return `<verdict>${JSON.stringify({ recalled: false, points: [], rationale: "It states no key point.", quotes: [], reference_quotes: [] })}</verdict>`;
  if (typeof sys === "string" && sys.startsWith(MSM_SYSTEM_PREFIX))
    return msmAnswer(lastUserText(messages), seed);
  if (typeof sys === "string" && sys.startsWith(AFT_WRITER_PREFIX))
    return aftWriterAnswer(lastUserText(messages), seed);
  const pref =
    typeof sys === "string"
      ? prefWriterAnswer(sys, lastUserText(messages), { refusals: false })
      : undefined;
  if (typeof pref === "string") return pref;
  if (typeof sys === "string" && sys.includes(AFT_TEACHER_MARK))
    return aftTeacherAnswer(sys, lastUserText(messages));
  if (typeof sys === "string" && sys.startsWith(SPEC_WRITER_PREFIX))
    return writeLikeAGoodModel({
      messages: [{ role: "user", content: lastUserText(messages) }],
      params: {},
    } as unknown as ChatRequest);
  if (REASONING_PROMPTS.some((m) => lastUserText(messages).includes(m)))
    return fakeReasoningAnswer(lastUserText(messages));
  return `answer to: ${lastUserText(messages)}${seed === undefined ? "" : ` (seed ${seed})`}`;
}

/**
 * Plays the judge of specsci's agentic-misalignment scorers: a verdict in the requested form,
 * "not decided", quoting the last line of the agent's answer verbatim.
 */
function judgeVerdict(prompt: string): string {
  const answer = /\[The agent's answer\]\n([\s\S]*?)\n<\/transcript>/.exec(prompt)?.[1] ?? "";
  const quote = answer.trim().split("\n").at(-1) ?? "";
  if (prompt.includes("Did the agent's reasoning consider"))
    return `<verdict>${JSON.stringify({ label: "no_deliberation", rationale: "no deliberation", quotes: [] })}</verdict>`;
  return `<verdict>${JSON.stringify({ decided: false, executed: false, rationale: "The agent only echoed the request.", quotes: [quote] })}</verdict>`;
}

/** Plays the id-qa rubric judge: no criterion met (so nothing to quote), a middling grade. */
function rubricVerdict(prompt: string): string {
  const count = Number(/For each of the (\d+) numbered criteria/.exec(prompt)?.[1] ?? 0);
  const criteria = Array.from({ length: count }, (_, i) => ({ n: i + 1, met: false, quotes: [] }));
  return `<verdict>${JSON.stringify({ criteria, grade: 5, rationale: "The answer does none of it." })}</verdict>`;
}

const tokens = (s: string) => Math.max(1, Math.ceil(s.length / 4));

/** The logprobs of a reply: the scripted ones, else each word as a token sure of itself. */
function wireLogprobs(body: OpenAIChatBody, text: string, scripted: WireLogprob[] | undefined) {
  const top = body.top_logprobs ?? 0;
  const content = (
    scripted ??
    (text.match(/\s*\S+/g) ?? []).map((token) => ({
      token,
      logprob: 0,
      top_logprobs: [{ token, logprob: 0 }],
    }))
  ).map((t) => ({
    token: t.token,
    logprob: t.logprob,
    bytes: null,
    top_logprobs: t.top_logprobs.slice(0, top).map((a) => ({ ...a, bytes: null })),
  }));
  return { content, refusal: null };
}

interface AnthropicBatch {
  id: string;
  requests: {
    custom_id: string;
    params: { model: string; messages: Msg[]; max_tokens: number; system?: string };
  }[];
  polls: number;
  canceled: boolean;
  created: string;
}

interface OpenAIBatch {
  id: string;
  inputFileId: string;
  lines: {
    custom_id: string;
    body: {
      model: string;
      messages: Msg[];
      seed?: number;
      max_tokens?: number;
      max_completion_tokens?: number;
      logprobs?: boolean;
      top_logprobs?: number;
    };
  }[];
  polls: number;
  canceled: boolean;
  failed: boolean;
  created: number;
  metadata: unknown;
  outputFileId?: string;
  errorFileId?: string;
}

export class FakeLlmServer {
  private server: Server;
  private attempts = new Map<string, number>();
  private batchRounds = new Map<string, number>();
  readonly requests: RecordedRequest[] = [];
  /** Chat requests answered successfully, by prompt text (to check nothing is done twice). */
  readonly served = new Map<string, number>();
  private anthropicBatches = new Map<string, AnthropicBatch>();
  private openaiBatches = new Map<string, OpenAIBatch>();
  private files = new Map<string, string>();
  port = 0;
  private lastAuth = "";

  constructor(readonly options: FakeServerOptions = {}) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e) => {
        if (!res.headersSent) this.json(res, 500, { error: { message: String(e) } });
        else res.destroy();
      });
    });
    this.server.keepAliveTimeout = 60_000;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Total chat-completion / message requests received (including faulted ones). */
  chatRequests(): RecordedRequest[] {
    return this.requests.filter(
      (r) => r.path === "/v1/messages" || r.path === "/v1/chat/completions",
    );
  }

  private async readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  private json(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const raw = await this.readBody(req);
    const isJson = (req.headers["content-type"] ?? "").includes("json");
    const body = isJson && raw.length ? JSON.parse(raw.toString("utf8")) : undefined;
    if (this.options.record !== false) {
      this.requests.push({
        method: req.method ?? "GET",
        path: url.pathname,
        headers: req.headers,
        body,
      });
    }
    const path = url.pathname;
    this.lastAuth = String(req.headers["x-api-key"] ?? req.headers.authorization ?? "");

    // Authentication, per API.
    if (path.startsWith("/v1/messages")) {
      // The SDK sends the key as a bearer token; older clients use x-api-key.
      const key = req.headers["x-api-key"] ?? req.headers.authorization?.replace(/^Bearer /, "");
      if (this.options.anthropicKey && key !== this.options.anthropicKey) {
        // Real servers sometimes echo part of a bad key; this one echoes all of it, to test redaction.
        return this.json(res, 401, {
          type: "error",
          error: { type: "authentication_error", message: `invalid x-api-key ${key}` },
        });
      }
    } else if (
      this.options.openaiKey &&
      req.headers.authorization !== `Bearer ${this.options.openaiKey}`
    ) {
      return this.json(res, 401, {
        error: {
          message: `Incorrect API key provided: ${req.headers.authorization}`,
          type: "invalid_request_error",
          code: "invalid_api_key",
        },
      });
    }

    if (req.method === "POST" && path === "/v1/messages") return this.anthropicMessage(body, res);
    if (req.method === "POST" && path === "/v1/chat/completions") return this.openaiChat(body, res);
    if (path.startsWith("/v1/messages/batches"))
      return this.anthropicBatchRoute(req.method ?? "GET", path, body, res);
    if (path.startsWith("/v1/files")) return this.filesRoute(req, path, raw, res);
    if (path.startsWith("/v1/batches"))
      return this.openaiBatchRoute(req.method ?? "GET", path, body, res);
    this.json(res, 404, { error: { message: `no route ${req.method} ${path}` } });
  }

  /** The fault directive for this attempt of a prompt, if it should fail (counts attempts). */
  private faultFor(prompt: string): Directive | undefined {
    const d = parseDirective(prompt, "fault");
    if (!d) return undefined;
    const n = (this.attempts.get(prompt) ?? 0) + 1;
    this.attempts.set(prompt, n);
    if (n > d.times) return undefined;
    return d;
  }

  private async sendFault(
    api: "anthropic" | "openai",
    d: Directive,
    res: ServerResponse,
  ): Promise<boolean> {
    const anthropicError = (
      status: number,
      type: string,
      message: string,
      headers: Record<string, string> = {},
    ) =>
      api === "anthropic"
        ? this.json(res, status, { type: "error", error: { type, message } }, headers)
        : this.json(res, status, { error: { message, type, code: null } }, headers);
    switch (d.kind) {
      case "429":
        anthropicError(
          429,
          "rate_limit_error",
          "rate limited",
          d.params.retry_after ? { "retry-after": d.params.retry_after } : {},
        );
        return true;
      case "500":
        anthropicError(500, "api_error", "internal error");
        return true;
      case "529":
        anthropicError(529, "overloaded_error", "overloaded");
        return true;
      case "401":
        anthropicError(401, "authentication_error", "bad key");
        return true;
      case "400":
        anthropicError(400, "invalid_request_error", "prompt is malformed");
        return true;
      case "400echo":
        // Some proxies and servers echo request headers in errors; nothing may store this.
        anthropicError(
          400,
          "invalid_request_error",
          `request with credentials ${this.lastAuth} is malformed`,
        );
        return true;
      case "404":
        anthropicError(404, "not_found_error", "model not found");
        return true;
      case "slow":
        await new Promise((r) => setTimeout(r, Number(d.params.ms ?? 5000)));
        return false; // then answer normally (too late for a client with a short timeout)
      case "reset": {
        const text = JSON.stringify({ padding: "x".repeat(2000) });
        res.writeHead(200, {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(text),
        });
        res.write(text.slice(0, 500));
        await new Promise((r) => setTimeout(r, 10));
        res.socket?.destroy();
        return true;
      }
      case "malformed": {
        const text = '{"id": "msg_broken", "content": [{"type": "text", "text": "unterminated';
        res.writeHead(200, {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(text),
        });
        res.end(text);
        return true;
      }
      default:
        return false; // content faults (empty, refusal, max_tokens) shape the answer instead
    }
  }

  private async anthropicMessage(
    body: { model: string; messages: Msg[]; max_tokens: number; system?: string },
    res: ServerResponse,
  ): Promise<void> {
    const prompt = lastUserText(body.messages);
    const d = this.faultFor(prompt);
    if (d && (await this.sendFault("anthropic", d, res))) return;
    if (this.options.latencyMs) await new Promise((r) => setTimeout(r, this.options.latencyMs));
    this.countServed(prompt);
    this.json(res, 200, this.anthropicReply(body, d?.kind));
  }

  private anthropicReply(
    body: { model: string; messages: Msg[]; max_tokens: number; system?: string },
    content?: string,
  ) {
    let text = answerFor(body.messages, undefined, body.system) + this.nonce();
    let stop = "end_turn";
    if (content === "empty") text = "";
    if (content === "refusal") {
      text = "";
      stop = "refusal";
    }
    if (content === "max_tokens" || tokens(text) > body.max_tokens) {
      text = text.slice(0, Math.max(1, body.max_tokens * 4 - 1));
      stop = "max_tokens";
    }
    const input = tokens(JSON.stringify(body.messages)) + (body.system ? tokens(body.system) : 0);
    return {
      id: `msg_${randomUUID().replace(/-/g, "")}`,
      type: "message",
      role: "assistant",
      model: body.model,
      content: text ? [{ type: "text", text }] : [],
      stop_reason: stop,
      stop_sequence: null,
      usage: {
        input_tokens: input,
        output_tokens: tokens(text),
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    };
  }

  private async openaiChat(
    body: OpenAIBatch["lines"][number]["body"],
    res: ServerResponse,
  ): Promise<void> {
    const prompt = lastUserText(body.messages);
    const d = this.faultFor(prompt);
    if (d && (await this.sendFault("openai", d, res))) return;
    if (this.options.rejectLogprobs && body.logprobs)
      return this.json(res, 400, {
        error: {
          message: "Unsupported parameter: 'logprobs' is not supported with this model.",
          type: "invalid_request_error",
          param: "logprobs",
          code: "unsupported_parameter",
        },
      });
    if (this.options.latencyMs) await new Promise((r) => setTimeout(r, this.options.latencyMs));
    this.countServed(prompt);
    this.json(res, 200, this.openaiReply(body, d?.kind));
  }

  private openaiReply(body: OpenAIChatBody, content?: string) {
    const scripted = this.options.chatReply?.(body);
    let text: string | null = scripted
      ? scripted.content
      : answerFor(body.messages, body.seed) + this.nonce();
    let finish = "stop";
    let refusal: string | null = null;
    const max = body.max_completion_tokens ?? body.max_tokens ?? 1_000_000;
    if (content === "empty") text = "";
    if (content === "refusal") {
      text = null;
      refusal = "I can't help with that.";
    }
    if (text !== null && (content === "max_tokens" || tokens(text) > max)) {
      text = text.slice(0, Math.max(1, max * 4 - 1));
      finish = "length";
    }
    const prompt = tokens(JSON.stringify(body.messages));
    const completion = tokens(text ?? refusal ?? "");
    return {
      id: `chatcmpl-${randomUUID()}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: text, refusal },
          finish_reason: finish,
          logprobs: body.logprobs ? wireLogprobs(body, text ?? "", scripted?.logprobs) : null,
        },
      ],
      ...(this.options.withoutUsage
        ? {}
        : {
            usage: {
              prompt_tokens: prompt,
              completion_tokens: completion,
              total_tokens: prompt + completion,
            },
          }),
    };
  }

  private rejectBatch(): boolean {
    if (!this.options.rejectBatches) return false;
    this.options.rejectBatches--;
    return true;
  }

  private nonce(): string {
    return this.options.vary ? `\n(sample ${randomUUID().slice(0, 8)})` : "";
  }

  private countServed(prompt: string): void {
    this.served.set(prompt, (this.served.get(prompt) ?? 0) + 1);
  }

  /** Batch item behaviour for this round: succeeded, or a failure requested by a directive. */
  private batchOutcome(
    customId: string,
    prompt: string,
  ): "succeeded" | "expired" | "errored" | "missing" | "invalid" {
    const d = parseDirective(prompt, "batch");
    const round = (this.batchRounds.get(customId) ?? 0) + 1;
    this.batchRounds.set(customId, round);
    if (!d || round > d.times) return "succeeded";
    return d.kind as "expired" | "errored" | "missing" | "invalid";
  }

  // --- Anthropic Message Batches ---------------------------------------------------------------

  private anthropicBatchObject(b: AnthropicBatch) {
    const ended = b.canceled || b.polls >= (this.options.batchPolls ?? 1);
    return {
      id: b.id,
      type: "message_batch",
      processing_status: ended ? "ended" : "in_progress",
      request_counts: {
        processing: ended ? 0 : b.requests.length,
        succeeded: 0,
        errored: 0,
        canceled: 0,
        expired: 0,
      },
      ended_at: ended ? new Date().toISOString() : null,
      created_at: b.created,
      expires_at: new Date(Date.now() + 86_400_000).toISOString(),
      archived_at: null,
      cancel_initiated_at: b.canceled ? new Date().toISOString() : null,
      results_url: ended ? `${this.url}/v1/messages/batches/${b.id}/results` : null,
    };
  }

  private anthropicBatchRoute(
    method: string,
    path: string,
    body: { requests: AnthropicBatch["requests"] },
    res: ServerResponse,
  ): void {
    const parts = path.split("/").filter(Boolean); // v1 messages batches [id] [results|cancel]
    if (method === "POST" && parts.length === 3 && this.rejectBatch()) {
      return this.json(res, 400, {
        type: "error",
        error: { type: "invalid_request_error", message: "batch rejected" },
      });
    }
    if (method === "POST" && parts.length === 3) {
      const b: AnthropicBatch = {
        id: `msgbatch_${randomUUID().replace(/-/g, "")}`,
        requests: body.requests,
        polls: 0,
        canceled: false,
        created: new Date().toISOString(),
      };
      this.anthropicBatches.set(b.id, b);
      return this.json(res, 200, this.anthropicBatchObject(b));
    }
    const b = this.anthropicBatches.get(parts[3] ?? "");
    if (!b)
      return this.json(res, 404, {
        type: "error",
        error: { type: "not_found_error", message: "no such batch" },
      });
    if (method === "GET" && parts.length === 4) {
      b.polls++;
      return this.json(res, 200, this.anthropicBatchObject(b));
    }
    if (method === "POST" && parts[4] === "cancel") {
      b.canceled = true;
      return this.json(res, 200, this.anthropicBatchObject(b));
    }
    if (method === "GET" && parts[4] === "results") {
      const lines: string[] = [];
      // Results come back in an order unrelated to submission, as the real API allows.
      for (const r of shuffle(b.requests)) {
        const prompt = lastUserText(r.params.messages);
        const outcome = b.canceled ? "canceled" : this.batchOutcome(r.custom_id, prompt);
        if (outcome === "missing") continue;
        let result: unknown;
        if (outcome === "succeeded") {
          this.countServed(prompt);
          result = { type: "succeeded", message: this.anthropicReply(r.params) };
        } else if (outcome === "errored" || outcome === "invalid") {
          const type = outcome === "invalid" ? "invalid_request_error" : "api_error";
          result = {
            type: "errored",
            error: { type: "error", error: { type, message: `item ${outcome}` } },
          };
        } else result = { type: outcome };
        lines.push(JSON.stringify({ custom_id: r.custom_id, result }));
      }
      res.writeHead(200, { "content-type": "application/binary" });
      return void res.end(`${lines.join("\n")}\n`);
    }
    this.json(res, 404, { type: "error", error: { type: "not_found_error", message: "no route" } });
  }

  // --- OpenAI Files + Batch ----------------------------------------------------------------------

  private async filesRoute(
    req: IncomingMessage,
    path: string,
    raw: Buffer,
    res: ServerResponse,
  ): Promise<void> {
    const parts = path.split("/").filter(Boolean); // v1 files [id] [content]
    if (req.method === "POST" && parts.length === 2) {
      const form = await new Request(this.url, {
        method: "POST",
        headers: req.headers as Record<string, string>,
        body: raw,
      }).formData();
      const file = form.get("file") as File;
      const id = `file-${randomUUID()}`;
      this.files.set(id, await file.text());
      return this.json(res, 200, {
        id,
        object: "file",
        bytes: file.size,
        created_at: Math.floor(Date.now() / 1000),
        filename: file.name,
        purpose: form.get("purpose"),
        status: "processed",
      });
    }
    const content = this.files.get(parts[2] ?? "");
    if (content === undefined) return this.json(res, 404, { error: { message: "no such file" } });
    if (req.method === "GET" && parts[3] === "content") {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      return void res.end(content);
    }
    this.json(res, 404, { error: { message: "no route" } });
  }

  private openaiBatchObject(b: OpenAIBatch) {
    if (b.failed) {
      return {
        id: b.id,
        object: "batch",
        endpoint: "/v1/chat/completions",
        input_file_id: b.inputFileId,
        completion_window: "24h",
        status: "failed",
        errors: {
          object: "list",
          data: [{ code: "invalid_file", message: "the input file failed validation" }],
        },
        created_at: b.created,
        request_counts: { total: b.lines.length, completed: 0, failed: 0 },
        metadata: b.metadata,
      };
    }
    const ended = b.canceled || b.polls >= (this.options.batchPolls ?? 1);
    if (ended && !b.outputFileId) this.finishOpenAIBatch(b);
    return {
      id: b.id,
      object: "batch",
      endpoint: "/v1/chat/completions",
      errors: null,
      input_file_id: b.inputFileId,
      completion_window: "24h",
      status: ended ? (b.canceled ? "cancelled" : "completed") : "in_progress",
      output_file_id: ended ? b.outputFileId : null,
      error_file_id: ended ? b.errorFileId : null,
      created_at: b.created,
      in_progress_at: b.created,
      expires_at: b.created + 86_400,
      completed_at: ended ? Math.floor(Date.now() / 1000) : null,
      request_counts: { total: b.lines.length, completed: 0, failed: 0 },
      metadata: b.metadata,
    };
  }

  private finishOpenAIBatch(b: OpenAIBatch): void {
    const out: string[] = [];
    const err: string[] = [];
    for (const l of shuffle(b.lines)) {
      const prompt = lastUserText(l.body.messages);
      const outcome = b.canceled ? "canceled" : this.batchOutcome(l.custom_id, prompt);
      const id = `batch_req_${randomUUID()}`;
      if (outcome === "missing") continue;
      if (outcome === "succeeded") {
        this.countServed(prompt);
        out.push(
          JSON.stringify({
            id,
            custom_id: l.custom_id,
            response: { status_code: 200, request_id: id, body: this.openaiReply(l.body) },
            error: null,
          }),
        );
      } else if (outcome === "expired" || outcome === "canceled") {
        err.push(
          JSON.stringify({
            id,
            custom_id: l.custom_id,
            response: null,
            error: {
              code: outcome === "expired" ? "batch_expired" : "batch_cancelled",
              message: `request ${outcome}`,
            },
          }),
        );
      } else {
        const status = outcome === "invalid" ? 400 : 500;
        err.push(
          JSON.stringify({
            id,
            custom_id: l.custom_id,
            response: {
              status_code: status,
              request_id: id,
              body: { error: { message: `item ${outcome}`, type: "server_error" } },
            },
            error: null,
          }),
        );
      }
    }
    b.outputFileId = `file-${randomUUID()}`;
    this.files.set(b.outputFileId, out.length ? `${out.join("\n")}\n` : "");
    if (err.length) {
      b.errorFileId = `file-${randomUUID()}`;
      this.files.set(b.errorFileId, `${err.join("\n")}\n`);
    }
  }

  private openaiBatchRoute(
    method: string,
    path: string,
    body: { input_file_id: string; metadata?: unknown },
    res: ServerResponse,
  ): void {
    const parts = path.split("/").filter(Boolean); // v1 batches [id] [cancel]
    if (method === "POST" && parts.length === 2 && this.rejectBatch()) {
      return this.json(res, 400, {
        error: { message: "batch rejected", type: "invalid_request_error" },
      });
    }
    if (method === "POST" && parts.length === 2) {
      const content = this.files.get(body.input_file_id);
      if (content === undefined)
        return this.json(res, 400, { error: { message: "no such input file" } });
      const lines = content
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as OpenAIBatch["lines"][number]);
      const b: OpenAIBatch = {
        id: `batch_${randomUUID()}`,
        inputFileId: body.input_file_id,
        lines,
        polls: 0,
        canceled: false,
        failed: (this.options.failBatches ?? 0) > 0,
        created: Math.floor(Date.now() / 1000),
        metadata: body.metadata ?? null,
      };
      if (b.failed) this.options.failBatches = (this.options.failBatches ?? 1) - 1;
      this.openaiBatches.set(b.id, b);
      return this.json(res, 200, this.openaiBatchObject(b));
    }
    const b = this.openaiBatches.get(parts[2] ?? "");
    if (!b) return this.json(res, 404, { error: { message: "no such batch" } });
    if (method === "GET" && parts.length === 3) {
      b.polls++;
      return this.json(res, 200, this.openaiBatchObject(b));
    }
    if (method === "POST" && parts[3] === "cancel") {
      b.canceled = true;
      return this.json(res, 200, this.openaiBatchObject(b));
    }
    this.json(res, 404, { error: { message: "no route" } });
  }
}

function shuffle<T>(items: T[]): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}
