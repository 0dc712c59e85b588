/**
 * Checks a data directory's dataset card against the files beside it, independently of the code
 * that wrote it: the front matter parsed with `yaml`, every `data_files` path read back, every
 * feature compared with the records' own keys and values.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { parse } from "yaml";
import { sha256Hex } from "../../src/core/hash.js";

type Feature = {
  name: string;
  dtype?: string;
  struct?: Feature[];
  list?: Feature[];
  sequence?: unknown;
};

/** The card's YAML front matter, parsed. */
export function cardFrontMatter(dir: string): Record<string, unknown> {
  const card = readFileSync(join(dir, "README.md"), "utf8");
  const m = /^---\n([\s\S]*?)\n---\n/.exec(card);
  expect(m, "README.md opens with YAML front matter").not.toBeNull();
  return parse(m?.[1] ?? "");
}

const records = (file: string) =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** Whether a JSON value fits a scalar dtype (every Arrow column may hold nulls). */
function fitsDtype(dtype: string, v: unknown): boolean {
  if (v === null) return true;
  if (dtype === "string") return typeof v === "string";
  if (dtype === "bool") return typeof v === "boolean";
  if (dtype === "int64") return Number.isInteger(v);
  if (dtype === "float64") return typeof v === "number";
  return false;
}

/** Checks a value against a feature body; `exact`: each object has every feature as a key. */
function checkValue(f: Omit<Feature, "name">, v: unknown, path: string, exact: boolean): void {
  if (f.dtype !== undefined) {
    expect(fitsDtype(f.dtype, v), `${path}: ${JSON.stringify(v)} is a ${f.dtype}`).toBe(true);
  } else if (f.struct) {
    checkObject(f.struct, v, path, exact);
  } else if (f.list) {
    expect(Array.isArray(v), `${path} is a list`).toBe(true);
    for (const x of v as unknown[]) checkObject(f.list, x, `${path}[]`, exact);
  } else if (f.sequence !== undefined) {
    expect(Array.isArray(v), `${path} is a list`).toBe(true);
    const inner = typeof f.sequence === "string" ? { dtype: f.sequence } : (f.sequence as Feature);
    for (const x of v as unknown[]) checkValue(inner, x, `${path}[]`, exact);
  } else throw new Error(`${path}: feature ${JSON.stringify(f)} has no type`);
}

function checkObject(features: Feature[], v: unknown, path: string, exact: boolean): void {
  expect(typeof v === "object" && v !== null && !Array.isArray(v), `${path} is an object`).toBe(
    true,
  );
  const o = v as Record<string, unknown>;
  const names = features.map((f) => f.name);
  for (const k of Object.keys(o)) expect(names, `${path}: key ${k} is a feature`).toContain(k);
  if (exact)
    expect(Object.keys(o).sort(), `${path}: every feature is a key`).toEqual([...names].sort());
  for (const f of features) if (f.name in o) checkValue(f, o[f.name], `${path}.${f.name}`, exact);
}

/**
 * Checks the card in `dir`: Hub fields present, configs naming files that exist, splits counting
 * their lines, features matching the records, provenance matching the manifest. `exact`: every
 * record has every feature (false for a mix with user IT files, whose lines carry fewer keys —
 * then every feature must still be some record's key). Returns the front matter.
 */
export function checkCard(
  dir: string,
  want: { configs: Record<string, string>; exact?: boolean },
): Record<string, unknown> {
  const fm = cardFrontMatter(dir);
  for (const k of ["pretty_name", "license"]) expect(typeof fm[k], k).toBe("string");
  for (const k of ["task_categories", "size_categories", "tags"])
    expect(Array.isArray(fm[k]), k).toBe(true);
  const configs = fm.configs as {
    config_name: string;
    data_files: { split: string; path: string }[];
  }[];
  const info = fm.dataset_info as {
    config_name: string;
    features: Feature[];
    splits: { name: string; num_examples: number }[];
  }[];
  expect(
    Object.fromEntries(
      configs.map((c) => [c.config_name, c.data_files.map((d) => d.path).join(",")]),
    ),
  ).toEqual(want.configs);
  let most = 0;
  for (const c of configs) {
    const i = info.find((x) => x.config_name === c.config_name);
    expect(i, `dataset_info for ${c.config_name}`).toBeDefined();
    expect(i?.splits.map((s) => s.name)).toEqual(c.data_files.map((d) => d.split));
    const all: Record<string, unknown>[] = [];
    for (const d of c.data_files) {
      const file = join(dir, d.path);
      expect(existsSync(file), `${d.path} exists`).toBe(true);
      const rs = records(file);
      expect(i?.splits.find((s) => s.name === d.split)?.num_examples).toBe(rs.length);
      all.push(...rs);
    }
    most = Math.max(most, all.length);
    const features = i?.features ?? [];
    for (const [k, r] of all.entries())
      checkObject(features, r, `${c.config_name}[${k}]`, want.exact ?? true);
    for (const f of features)
      expect(
        all.some((r) => f.name in r),
        `feature ${f.name} is some record's key`,
      ).toBe(true);
  }
  expect(fm.size_categories).toEqual([most < 1000 ? "n<1K" : most < 10000 ? "1K<n<10K" : "other"]);
  const manifestText = readFileSync(join(dir, "manifest.json"), "utf8");
  const manifest = JSON.parse(manifestText);
  const p = fm.specsci as Record<string, unknown>;
  expect(p.manifest_sha256).toBe(sha256Hex(manifestText));
  expect(p.created).toBe(manifest.created);
  expect(p.version).toEqual(manifest.specsci);
  expect(p.format).toBe(manifest.format);
  if (manifest.spec) expect(p.spec).toEqual({ name: manifest.spec.name, hash: manifest.spec.hash });
  return fm;
}
