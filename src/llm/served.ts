/**
 * Models served for evaluation (trained adapters on a vLLM or SGLang server), registered in the
 * store under the id evals call them by (`<endpoint>/<name>`). The provider registry resolves such
 * an id to its server before looking at `endpoints:` in specsci.yaml, so a model served by
 * `specsci train serve --start` or by `specsci run` is callable without editing any config.
 */
import type { Store } from "../store/index.js";

export interface ServedModel {
  /** The id evals use: `<endpoint>/<served name>`. */
  id: string;
  /** The server's OpenAI-compatible base URL. */
  base_url: string;
  /** The name the server answers to (SGLang selects an adapter as `<base>:<adapter>`). */
  model: string;
  /** The trained model it is (a model artifact id). */
  artifact: string;
  /** Which weights answer (see weightsOf): part of the cache key of every call to it. */
  weights?: string;
  /** The serving process, when specsci started it. */
  pid?: number;
}

const key = (id: string) => `served:${id}`;

export function registerServed(store: Store, m: ServedModel): void {
  store.artifacts.put(key(m.id), "served", JSON.stringify(m), { base_url: m.base_url });
}

export function unregisterServed(store: Store, id: string): void {
  store.artifacts.delete(key(id));
}

export function servedModel(store: Store, id: string): ServedModel | undefined {
  const a = store.artifacts.get(key(id));
  return a ? (JSON.parse(a.content) as ServedModel) : undefined;
}

export function servedModels(store: Store): ServedModel[] {
  return store.artifacts.list("served").map((a) => JSON.parse(a.content) as ServedModel);
}
