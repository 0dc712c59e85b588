import { createRequire } from "node:module";
import {
  disableProgress,
  envSetting,
  loadEnvFile,
  resolveWorkspaceDir,
  setLogLevel,
} from "../core/index.js";
import type { CacheMode, Config, LlmClient } from "../llm/index.js";
import type { Store } from "../store/index.js";
import { downloadProgress } from "./output.js";

/**
 * The store and the LLM layer, loaded by the first command that opens them, so that commands
 * needing neither (`spec list`, `--version`) start without SQLite or the SDKs. require() of an
 * ES module is synchronous on the Node versions `engines` allows (≥ 20.19).
 */
const load = createRequire(import.meta.url);
const storeModule = () => load("../store/index.js") as typeof import("../store/index.js");
const llmModule = () => load("../llm/index.js") as typeof import("../llm/index.js");

/** Options every command accepts (declared on the root program). */
export interface GlobalOptions {
  workspace?: string;
  config?: string;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  cache?: boolean;
  cacheMode?: CacheMode;
}

/** The one context of a run of the CLI, created (and its module imported) by the first action. */
export type ContextFactory = () => Promise<CliContext>;

/** What a command needs, opened lazily so that `--help` and pure commands touch nothing. */
export class CliContext {
  private _config: { config: Config; path: string | undefined } | undefined;
  private _store: Store | undefined;
  private _llm: LlmClient | undefined;

  constructor(readonly options: GlobalOptions) {
    loadEnvFile();
    if (options.json || options.quiet) disableProgress();
    setLogLevel(options.quiet ? "quiet" : options.verbose ? "verbose" : "normal");
  }

  get json(): boolean {
    return this.options.json === true;
  }

  get config(): Config {
    this._config ??= llmModule().loadConfig(this.options.config);
    return this._config.config;
  }

  get configPath(): string | undefined {
    this._config ??= llmModule().loadConfig(this.options.config);
    return this._config.path;
  }

  get workspaceDir(): string {
    return resolveWorkspaceDir(this.options.workspace);
  }

  get store(): Store {
    if (!this._store) {
      // SPECSCI_STORE_URL wins over specsci.yaml's store: (Store.open reads it when given none).
      const url = envSetting("SPECSCI_STORE_URL") ?? this.config.store;
      this._store = storeModule().Store.open(this.workspaceDir, url ? { url } : {});
    }
    return this._store;
  }

  /** The run store's file, once a command has opened it (for errors raised by its queries). */
  get openedStoreFile(): string | undefined {
    return this._store?.file;
  }

  /** The cache mode from --no-cache / --cache-mode, else the config's. */
  cacheMode(fallback?: CacheMode): CacheMode {
    if (this.options.cache === false) return "off";
    return this.options.cacheMode ?? fallback ?? this.config.cache;
  }

  llm(cacheMode?: CacheMode): LlmClient {
    this._llm ??= new (llmModule().LlmClient)({
      store: this.store,
      config: this.config,
      cacheMode: this.cacheMode(cacheMode),
      onDownloadProgress: downloadProgress(),
    });
    return this._llm;
  }

  close(): void {
    this._store?.close();
  }
}
