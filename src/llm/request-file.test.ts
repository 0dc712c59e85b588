import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readLines } from "../core/lines.js";
import { Line, quickLine, RequestFile } from "./request-file.js";

const dir = mkdtempSync(join(tmpdir(), "specsci-request-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const defaults = { params: { temperature: 0 }, maxTokens: 99 };

async function itemsOf(f: RequestFile) {
  const out = [];
  for await (const item of f.items(defaults)) out.push(item);
  return out;
}

describe("a request file read as a stream", () => {
  it("splits lines across chunk boundaries, multi-byte characters included, and hashes the bytes", async () => {
    // Far more than one read chunk (64 KiB), with characters of 2–4 bytes straddling the cuts.
    const text = Array.from({ length: 5000 }, (_, i) => `${i} é€😀 ${"x".repeat(i % 37)}`).join(
      "\r\n",
    );
    const { lines, sha256 } = readLines(file("chunks.txt", text));
    const got: string[] = [];
    for await (const l of lines) got.push(l.text);
    expect(got).toEqual(text.split("\n"));
    expect(sha256()).toBe(createHash("sha256").update(text).digest("hex"));
  });

  it("checks every line first, naming the file and line of a bad one", async () => {
    const bad = file("bad.jsonl", '{"id":"a","prompt":"hi"}\n\n{"id":"b"}\n');
    await expect(new RequestFile(bad, "bad.jsonl").check(1)).rejects.toThrow(
      'bad.jsonl:3: give exactly one of "messages" or "prompt"',
    );
    const dup = file("dup.jsonl", '{"id":"a","prompt":"hi"}\n{"id":"a","prompt":"again"}\n');
    await expect(new RequestFile(dup, "dup.jsonl").check(1)).rejects.toThrow(
      'dup.jsonl:2: duplicate id "a"',
    );
    await expect(new RequestFile(file("empty.jsonl", "\n\n"), "e").check(1)).rejects.toThrow(
      "no requests",
    );
  });

  it("expands each line into its samples, with the line's params over the defaults", async () => {
    const path = file(
      "ok.jsonl",
      '{"id":"a","prompt":"hi","system":"be brief","samples":2}\n{"id":7,"messages":[{"role":"user","content":"yo"}],"params":{"temperature":1}}',
    );
    const f = new RequestFile(path, "ok.jsonl");
    expect((await f.check(3)).items).toBe(5);
    const items = await itemsOf(f);
    expect(items.map((i) => `${i.id}#${i.sample}`)).toEqual(["a#0", "a#1", "7#0", "7#1", "7#2"]);
    expect(items[0]?.request.messages).toEqual([
      { role: "system", content: "be brief" },
      { role: "user", content: "hi" },
    ]);
    expect(items[0]?.request.params).toEqual({ temperature: 0, max_tokens: 99 });
    expect(items[2]?.request.params).toEqual({ temperature: 1, max_tokens: 99 });
  });

  it("refuses to finish when the file changed after it was checked", async () => {
    const path = file("moving.jsonl", '{"id":"a","prompt":"hi"}\n');
    const f = new RequestFile(path, "moving.jsonl");
    await f.check(1);
    writeFileSync(path, '{"id":"a","prompt":"bye"}\n');
    await expect(itemsOf(f)).rejects.toThrow("moving.jsonl changed while its requests ran");
  });
});

describe("the hand check of a common line", () => {
  it("accepts only what the schema accepts, and gives what it gives", () => {
    const lines: unknown[] = [
      { id: "a", prompt: "hi" },
      { id: 7, prompt: "hi", system: "be brief", samples: 2 },
      { id: "a", messages: [{ role: "user", content: "yo" }], system: "ignored" },
      { content: 1, id: "b", messages: [{ content: "c", role: "assistant" }] },
      { id: "a", messages: [{ content: "c", role: "assistant" }] },
      { id: "", prompt: "hi" },
      { id: null, prompt: "hi" },
      { id: "a" },
      { id: "a", prompt: "hi", messages: [{ role: "user", content: "yo" }] },
      { id: "a", messages: [] },
      { id: "a", messages: [{ role: "tool", content: "yo" }] },
      { id: "a", messages: [{ role: "user", content: "yo", name: "x" }] },
      { id: "a", messages: [{ role: "user" }] },
      { id: "a", messages: [null] },
      { id: "a", messages: {} },
      { id: "a", prompt: 3 },
      { id: "a", prompt: "hi", system: null },
      { id: "a", prompt: "hi", samples: 0 },
      { id: "a", prompt: "hi", samples: 1.5 },
      { id: "a", prompt: "hi", extra: 1 },
      { id: "a", prompt: "hi", params: { temperature: 1 } },
      JSON.parse('{"id":"a","prompt":"hi","__proto__":{"x":1}}'),
      ["a"],
      "a",
      null,
    ];
    let quick = 0;
    for (const json of lines) {
      const schema = Line.safeParse(json);
      const got = quickLine(json);
      if (got === undefined) continue;
      quick++;
      expect(schema.success, JSON.stringify(json)).toBe(true);
      expect(got).toEqual(schema.data);
    }
    // The common shapes take the quick path (else it would be no faster).
    expect(quick).toBe(4);
  });
});
