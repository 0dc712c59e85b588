/**
 * `specsci/test`: test doubles for programs built on specsci, as the AI SDK ships its mock models
 * in `ai/test`. Fake models answer in process (`fake/<name>`, scripted by `registerFakeModel`;
 * `fake/echo` is built in), the tiny GGUF model runs the real local engine offline, and
 * `testWorkspace` opens a real run store and client in a temporary directory.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LlmClient } from "../llm/client.js";
import { type CacheMode, type Config, ConfigSchema } from "../llm/config.js";
import { Store } from "../store/db.js";

export { buildTinyModel, TINY_CHAT_REPLY, TINY_JUDGE_REPLY } from "../llm/local/tiny-model.js";
export { type FakeHandler, fakeModelNames, registerFakeModel } from "../llm/providers/fake.js";

export interface TestWorkspace {
  /** The temporary directory; the store is in `dir/ws`. */
  dir: string;
  store: Store;
  client: LlmClient;
  config: Config;
  /** Closes the store and removes the directory. */
  dispose(): void;
}

/**
 * A workspace of its own for a test: a fresh run store in a temporary directory and a client
 * over it, configured by `config` (as `specsci.yaml` would be) and `cacheMode`.
 */
export function testWorkspace(
  config: Record<string, unknown> = {},
  cacheMode?: CacheMode,
): TestWorkspace {
  const dir = mkdtempSync(join(tmpdir(), "specsci-test-"));
  const store = Store.open(join(dir, "ws"));
  const parsed = ConfigSchema.parse(config);
  const client = new LlmClient({
    store,
    config: parsed,
    ...(cacheMode ? { cacheMode } : {}),
  });
  return {
    dir,
    store,
    client,
    config: parsed,
    dispose() {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
