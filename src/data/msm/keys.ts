/** Item keys of the corpus tree: `d1.s2.t3.i4` for an idea, `d1.s2.t3.i4.r0` for a document. */

/** Numeric order of tree keys (`d1.s2.t10` after `d1.s2.t9`). */
export function compareKeys(a: string, b: string): number {
  const x = a.match(/\d+/g)?.map(Number) ?? [];
  const y = b.match(/\d+/g)?.map(Number) ?? [];
  for (let i = 0; i < Math.min(x.length, y.length); i++)
    if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  return x.length - y.length;
}

/** The repetition index of a document key. */
export const repOf = (docKey: string) => Number(/\.r(\d+)$/.exec(docKey)?.[1] ?? 0);

/** The idea a document key belongs to. */
export const ideaKeyOf = (docKey: string) => docKey.replace(/\.r\d+$/, "");
