import { existsSync, mkdirSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { ChatHistoryItem, Llama, LlamaChat, LlamaContext, LlamaModel } from "node-llama-cpp";
import { envSetting } from "../../core/env.js";
import { SpecsciError } from "../../core/errors.js";
import { writeFileAtomic } from "../../core/fs.js";
import { sha256Hex } from "../../core/hash.js";
import { abortedByTimeout, ModelCallError } from "../errors.js";
import { type DownloadProgress, downloadHfFile, parseHfRef } from "../local/hf-download.js";
import { probeModelFile } from "../local/probe.js";
import { buildTinyModel } from "../local/tiny-model.js";
import {
  type CallWarning,
  type ChatRequest,
  type ProviderModel,
  type ProviderResult,
  type SamplingParams,
  unsupportedSetting,
} from "../types.js";

export const BUILTIN_TINY = "builtin:tiny";
/** The tiny model's judge variant: it answers every prompt with the same valid verdict. */
export const BUILTIN_TINY_JUDGE = "builtin:tiny-judge";

/** Context window for real models unless `providers.local.context_size` says otherwise. */
export const DEFAULT_CONTEXT = 16384;

export interface LocalSettings {
  /** CPU threads; undefined picks 1 for tiny models and all math cores otherwise. */
  threads?: number | undefined;
  contextSize?: number | undefined;
  /** Parallel sequences (requests served at once) in one context. */
  sequences: number;
  modelCacheDir: string;
  onDownloadProgress?: DownloadProgress | undefined;
}

export function defaultModelCacheDir(): string {
  return envSetting("SPECSCI_MODEL_CACHE");
}

/**
 * Resolves `builtin:tiny`, `hf:owner/repo/file.gguf` or a file path to a GGUF file on disk,
 * generating or downloading it into the cache when needed.
 */
export async function resolveLocalModelFile(ref: string, settings: LocalSettings): Promise<string> {
  if (ref === BUILTIN_TINY || ref === BUILTIN_TINY_JUDGE) {
    // Named by content, so a changed construction never reuses a stale file.
    const bytes = buildTinyModel({ reply: ref === BUILTIN_TINY ? "chat" : "judge" });
    const path = join(
      settings.modelCacheDir,
      "builtin",
      `specsci-tiny-${sha256Hex(bytes).slice(0, 12)}.gguf`,
    );
    if (!existsSync(path)) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileAtomic(path, bytes);
    }
    return path;
  }
  if (ref.startsWith("hf:")) {
    return downloadHfFile(
      parseHfRef(ref.slice(3)),
      settings.modelCacheDir,
      settings.onDownloadProgress,
    );
  }
  const path = resolve(ref.startsWith("~/") ? join(homedir(), ref.slice(2)) : ref);
  if (!existsSync(path)) {
    throw new SpecsciError(`model file not found: ${path}`, {
      hint: "give a path to a .gguf file, hf:owner/repo/file.gguf, builtin:tiny or builtin:tiny-judge",
    });
  }
  return path;
}

interface LoadedModel {
  model: LlamaModel;
  context: LlamaContext;
  contextSize: number;
  idle: LlamaChat[];
  waiting: ((chat: LlamaChat) => void)[];
}

let llamaPromise: Promise<Llama> | undefined;
const loaded = new Map<string, Promise<LoadedModel>>();

async function getLlamaOnce(): Promise<Llama> {
  if (!llamaPromise) {
    llamaPromise = import("node-llama-cpp").then(({ getLlama, LlamaLogLevel }) =>
      // CPU only: no GPU probing, no network.
      getLlama({ gpu: false, logLevel: LlamaLogLevel.error }),
    );
  }
  return llamaPromise;
}

async function loadModel(path: string, settings: LocalSettings): Promise<LoadedModel> {
  const problem = await probeModelFile(path);
  if (problem) throw new ModelCallError("model_load", problem, { retryable: false });
  const { LlamaChat } = await import("node-llama-cpp");
  const llama = await getLlamaOnce();
  const model = await llama.loadModel({ modelPath: path });
  // Measured on a 2-vCPU machine: a 0.5 MB model runs 14x slower on 2 threads than on 1 (thread
  // synchronisation dominates); real models gain from every math core.
  const tiny = statSync(path).size < 64 * 1024 * 1024;
  const threads = settings.threads ?? (tiny ? 1 : llama.cpuMathCores);
  // Agentic-misalignment prompts with a spec in the system prompt run to ~10k tokens, so the
  // default leaves room for them; a tiny model's whole window costs only a few MB of KV cache.
  const contextSize = Math.min(
    settings.contextSize ?? (tiny ? model.trainContextSize : DEFAULT_CONTEXT),
    model.trainContextSize,
  );
  const context = await model.createContext({
    contextSize,
    threads,
    sequences: settings.sequences,
  });
  const idle: LlamaChat[] = [];
  for (let i = 0; i < settings.sequences; i++) {
    idle.push(new LlamaChat({ contextSequence: context.getSequence() }));
  }
  return { model, context, contextSize, idle, waiting: [] };
}

function toHistory(req: ChatRequest): ChatHistoryItem[] {
  return req.messages.map((m): ChatHistoryItem => {
    if (m.role === "system") return { type: "system", text: m.content };
    if (m.role === "user") return { type: "user", text: m.content };
    return { type: "model", response: [m.content] };
  });
}

/** A GGUF model run in-process by llama.cpp (node-llama-cpp) on the CPU. */
export class LocalModel implements ProviderModel {
  readonly identity: Record<string, string>;
  private engine: Promise<LoadedModel> | undefined;

  droppedSettings(p: SamplingParams): CallWarning[] {
    return p.top_logprobs === undefined
      ? []
      : [unsupportedSetting("top_logprobs", "the local engine returns no log-probabilities")];
  }

  constructor(
    readonly id: string,
    private readonly ref: string,
    private readonly settings: LocalSettings,
  ) {
    this.identity = { local: ref };
  }

  private async load(): Promise<LoadedModel> {
    if (!this.engine) {
      this.engine = (async () => {
        const path = await resolveLocalModelFile(this.ref, this.settings);
        let p = loaded.get(path);
        if (!p) {
          p = loadModel(path, this.settings);
          loaded.set(path, p);
          p.catch(() => loaded.delete(path));
        }
        return p;
      })();
      this.engine.catch(() => {
        this.engine = undefined;
      });
    }
    return this.engine;
  }

  async complete(req: ChatRequest, signal: AbortSignal): Promise<ProviderResult> {
    let engine: LoadedModel;
    try {
      engine = await this.load();
    } catch (e) {
      if (e instanceof ModelCallError) throw e;
      throw new ModelCallError("model_load", `${this.id}: ${(e as Error).message}`, {
        retryable: false,
        cause: e,
      });
    }
    const chat = engine.idle.pop() ?? (await new Promise<LlamaChat>((r) => engine.waiting.push(r)));
    try {
      return await this.generate(engine, chat, req, signal);
    } finally {
      const next = engine.waiting.shift();
      if (next) next(chat);
      else engine.idle.push(chat);
    }
  }

  private async generate(
    engine: LoadedModel,
    chat: LlamaChat,
    req: ChatRequest,
    signal: AbortSignal,
  ): Promise<ProviderResult> {
    const history = toHistory(req);
    const prompt = chat.chatWrapper.generateContextState({ chatHistory: history }).contextText;
    const inputTokens = prompt.tokenize(engine.model.tokenizer).length;
    const room = engine.contextSize - inputTokens;
    if (room < 1) {
      throw new ModelCallError(
        "bad_request",
        `${this.id}: the prompt has ${inputTokens} tokens and does not fit the context of ${engine.contextSize}; raise providers.local.context_size`,
        { retryable: false },
      );
    }
    // Generation never shifts the context (that would silently drop prompt text): an answer that
    // reaches the end of the context stops there and says so.
    const maxTokens = Math.min(req.params.max_tokens, room);
    let outputTokens = 0;
    const p = req.params;
    try {
      const res = await chat.generateResponse(history, {
        maxTokens,
        ...(p.temperature !== undefined ? { temperature: p.temperature } : {}),
        ...(p.top_p !== undefined ? { topP: p.top_p } : {}),
        ...(p.seed !== undefined ? { seed: p.seed } : {}),
        ...(p.stop?.length ? { customStopTriggers: p.stop } : {}),
        signal,
        onToken: (tokens) => {
          outputTokens += tokens.length;
        },
      });
      const reasoning = res.fullResponse
        .filter(
          (s): s is Extract<typeof s, { type: "segment" }> =>
            typeof s === "object" && s.type === "segment",
        )
        .filter((s) => s.segmentType === "thought")
        .map((s) => s.text)
        .join("");
      const raw = res.metadata.stopReason;
      if (raw === "abort") throw new ModelCallError("timeout", `${this.id}: generation timed out`);
      const cutByContext = raw === "maxTokens" && maxTokens < req.params.max_tokens;
      const result: ProviderResult = {
        text: res.response,
        stopReason: raw === "maxTokens" ? "max_tokens" : "end",
        providerStopReason: cutByContext ? "context_window" : raw,
        usage: { input_tokens: inputTokens, output_tokens: outputTokens },
      };
      if (reasoning) result.reasoning = reasoning;
      return result;
    } catch (e) {
      if (e instanceof ModelCallError) throw e;
      if (signal.aborted) {
        throw abortedByTimeout(signal)
          ? new ModelCallError("timeout", `${this.id}: generation timed out`)
          : new ModelCallError("aborted", `${this.id}: generation aborted`, { retryable: false });
      }
      throw new ModelCallError("unknown", `${this.id}: llama.cpp failed: ${(e as Error).message}`, {
        retryable: false,
        cause: e,
      });
    }
  }
}
