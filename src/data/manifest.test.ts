import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTempDirs, tempDir } from "../../test/helpers.js";
import { stageData } from "../train/data.js";
import type { StageSpec } from "../train/plan.js";
import { type ChatLine, writeChatSets } from "./aft/output.js";
import {
  AFT_MANIFEST_FORMAT,
  MANIFEST_FILE,
  readManifest,
  SET_FILES,
  setFile,
  togetherExport,
  writtenManifest,
} from "./manifest.js";

afterAll(cleanupTempDirs);

const line = (id: string, reasoning: boolean): ChatLine => ({
  id,
  source: "aft:test",
  messages: [
    { role: "user", content: `question ${id}` },
    { role: "assistant", content: reasoning ? `<think>why</think>answer ${id}` : `answer ${id}` },
  ],
  token_count: 7,
});

const stage = (set: StageSpec["set"], data: string) =>
  ({ name: "aft", kind: "aft", data, set }) as StageSpec;

describe("the data directories other modules read", () => {
  it("training finds each chat set where the writer put it", async () => {
    const dir = tempDir();
    await writeChatSets(dir, [
      { reasoning: line("a", true), plain: line("a", false) },
      { reasoning: line("b", true), plain: line("b", false) },
    ]);
    writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify({ format: AFT_MANIFEST_FORMAT }));
    for (const set of ["reasoning", "no-reasoning"] as const) {
      const d = await stageData(stage(set, dir), "/");
      expect(d.file).toBe(join(dir, togetherExport(setFile(set))));
      expect(d).toMatchObject({ examples: 2, tokens: 14, manifestFormat: AFT_MANIFEST_FORMAT });
    }
    expect(setFile("no-reasoning")).toBe(SET_FILES.plain);
  });

  it("a manifest that is not one is an error naming the file, in training too", async () => {
    const dir = tempDir();
    const file = join(dir, MANIFEST_FILE);
    writeFileSync(file, "{not json");
    expect(() => readManifest(dir, "chat-set manifest", "pass a chat set")).toThrow(
      `${file} is not JSON`,
    );
    await expect(stageData(stage("reasoning", dir), "/")).rejects.toThrow(`${file} is not JSON`);
    expect(writtenManifest(dir)).toBeUndefined();
    writeFileSync(file, "[1]");
    expect(() => readManifest(dir, "chat-set manifest", "pass a chat set")).toThrow(
      `${file} is not a manifest: it holds no JSON object`,
    );
    expect(writtenManifest(dir)).toBeUndefined();
    expect(writtenManifest(join(dir, "absent"))).toBeUndefined();
  });
});
