import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTempDirs, tempDir } from "../../test/helpers.js";
import { JsonlIndexCache, JsonlLines } from "./jsonl-lines.js";

afterAll(cleanupTempDirs);

const indexed = async (file: string) => new JsonlIndexCache().lines(file);

describe("JSONL line index", () => {
  it("pages through lines across 1 MiB chunks, multi-byte text split between them included", async () => {
    const file = join(tempDir(), "big.jsonl");
    // Lines of varying length with three-byte characters, about 3 MiB: chunk edges fall inside lines.
    const lines = Array.from({ length: 3000 }, (_, i) =>
      JSON.stringify({ i, text: `€${"ü€x".repeat(200 + (i % 97))}` }),
    );
    writeFileSync(file, `${lines.join("\n")}\n`);
    const index = await indexed(file);
    expect(index.count).toBe(3000);
    expect(await index.read(0, 3)).toEqual(lines.slice(0, 3));
    expect(await index.read(1234, 5)).toEqual(lines.slice(1234, 1239));
    expect(await index.read(2998, 10)).toEqual(lines.slice(2998));
    expect(await index.read(3000, 10)).toEqual([]);
  });

  it("counts a last line without its newline, drops CRLF endings, and sees an empty file as empty", async () => {
    const dir = tempDir();
    const open = join(dir, "open.jsonl");
    writeFileSync(open, '{"a":1}\r\n{"a":2}\n{"a":3}');
    const index = await indexed(open);
    expect(index.count).toBe(3);
    expect(await index.read(0, 3)).toEqual(['{"a":1}', '{"a":2}', '{"a":3}']);
    const empty = join(dir, "empty.jsonl");
    writeFileSync(empty, "");
    expect((await JsonlLines.index(empty, 0)).count).toBe(0);
  });

  it("indexes a file again once it changes", async () => {
    const file = join(tempDir(), "grow.jsonl");
    writeFileSync(file, '{"a":1}\n');
    const cache = new JsonlIndexCache();
    expect((await cache.lines(file)).count).toBe(1);
    appendFileSync(file, '{"a":2}\n');
    expect((await cache.lines(file)).count).toBe(2);
  });
});
