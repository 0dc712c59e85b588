/** The API as the app calls it: typed GETs, the session token for writes, live updates. */
import { useEffect, useState } from "preact/hooks";
import type { ChangeEvent } from "../api-types.js";

/** The per-process token the server put in index.html; writes send it back (CSRF check). */
export const sessionToken = (): string =>
  document.querySelector<HTMLMetaElement>('meta[name="specsci-token"]')?.content ?? "";

export class ApiError extends Error {}

export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { Accept: "application/json" } });
  const body = (await res.json().catch(() => ({}))) as { error?: string };
  if (!res.ok) throw new ApiError(body.error ?? `${res.status} ${res.statusText}`);
  return body as T;
}

let source: EventSource | undefined;
const listeners = new Set<(v: number) => void>();

/**
 * The store's change counter, pushed by the server when another process (a running `specsci
 * run`) commits: pages put it in their effects' dependencies to refetch without a reload.
 */
export function useStoreVersion(): number {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    if (!source) {
      source = new EventSource("/api/events");
      source.addEventListener("change", (e) => {
        const v = (JSON.parse((e as MessageEvent<string>).data) as ChangeEvent).version;
        for (const l of listeners) l(v);
      });
    }
    listeners.add(setVersion);
    return () => listeners.delete(setVersion);
  }, []);
  return version;
}

/** GET `path` (again whenever one of `deps` changes): the data, the error, and whether loading. */
export function useJson<T>(
  path: string | null,
  deps: unknown[] = [],
): { data: T | undefined; error: string | undefined } {
  const [state, setState] = useState<{ data?: T; error?: string }>({});
  useEffect(() => {
    if (path === null) return;
    let live = true;
    getJson<T>(path).then(
      (data) => live && setState({ data }),
      (e: Error) => live && setState((s) => ({ ...s, error: e.message })),
    );
    return () => {
      live = false;
    };
  }, [path, ...deps]);
  return { data: state.data, error: state.error };
}

/** A state-changing request with a JSON body, carrying the session token (the CSRF check). */
export async function sendJson<T>(
  method: "PUT" | "DELETE" | "POST",
  path: string,
  body: unknown,
): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: { "Content-Type": "application/json", "X-Specsci-Token": sessionToken() },
    body: JSON.stringify(body),
  });
  const answer = (await res.json().catch(() => ({}))) as { error?: string; hint?: string };
  if (!res.ok)
    throw new ApiError(
      [answer.error ?? `${res.status} ${res.statusText}`, answer.hint].filter(Boolean).join(" — "),
    );
  return answer as T;
}
