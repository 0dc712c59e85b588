import { disableProgress, loadEnvFile, resolveWorkspaceDir, setLogLevel } from "../core/index.js";
import { type CacheMode, type Config, LlmClient, loadConfig } from "../llm/index.js";
import { Store } from "../store/index.js";
import { downloadProgress } from "./output.js";

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
    this._config ??= loadConfig(this.options.config);
    return this._config.config;
  }

  get configPath(): string | undefined {
    this._config ??= loadConfig(this.options.config);
    return this._config.path;
  }

  get workspaceDir(): string {
    return resolveWorkspaceDir(this.options.workspace);
  }

  get store(): Store {
    this._store ??= Store.open(this.workspaceDir);
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
    this._llm ??= new LlmClient({
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
