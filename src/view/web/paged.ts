/**
 * Rows of a long server-side list, fetched a page at a time as a virtualized list scrolls to
 * them; everything is dropped and fetched again when `key` (the list and its filter) changes.
 */
import { useEffect, useRef, useState } from "preact/hooks";

export interface Paged<T> {
  total: number | null;
  row(index: number): T | undefined;
  /** Fetches the pages holding these rows, unless they are here or on their way. */
  need(indices: number[]): void;
  error: string | undefined;
}

export function usePagedRows<T>(
  key: string,
  fetchPage: (offset: number, limit: number) => Promise<{ rows: T[]; total: number }>,
  pageSize: number,
): Paged<T> {
  const [state, setState] = useState({
    key,
    total: null as number | null,
    pages: new Map<number, T[]>(),
  });
  const [error, setError] = useState<string>();
  const asked = useRef(new Set<string>());
  const current = state.key === key ? state : { key, total: null, pages: new Map<number, T[]>() };

  const load = (page: number) => {
    const id = `${key}#${page}`;
    if (asked.current.has(id)) return;
    asked.current.add(id);
    fetchPage(page * pageSize, pageSize).then(
      (p) => {
        setError(undefined);
        setState((old) => {
          const pages = new Map(old.key === key ? old.pages : []);
          pages.set(page, p.rows);
          return { key, total: p.total, pages };
        });
      },
      (e: Error) => setError(e.message),
    );
  };
  useEffect(() => {
    asked.current.clear();
    load(0);
  }, [key]);
  return {
    total: current.total,
    row: (i) => current.pages.get(Math.floor(i / pageSize))?.[i % pageSize],
    need: (indices) => {
      for (const i of indices) {
        const page = Math.floor(i / pageSize);
        if (!current.pages.has(page)) load(page);
      }
    },
    error,
  };
}
