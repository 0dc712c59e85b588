import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson, hashValue } from "./hash.js";

describe("canonicalJson", () => {
  it("sorts keys at every depth and drops undefined members", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 2, y: undefined }], c: "x" } })).toBe(
      '{"a":{"c":"x","d":[1,{"z":2}]},"b":1}',
    );
  });

  it("gives equal hashes for objects that differ only in key order", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(hashValue(reversed)).toBe(hashValue(obj));
      }),
    );
  });

  it("distinguishes values that differ", () => {
    expect(hashValue({ a: 1 })).not.toBe(hashValue({ a: 2 }));
    expect(hashValue([1, 2])).not.toBe(hashValue([2, 1]));
  });

  it("refuses non-finite numbers instead of hashing them as null", () => {
    expect(() => canonicalJson({ t: Number.NaN })).toThrow(/non-finite/);
  });
});
