import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { SpecsciError } from "../core/errors.js";

/**
 * Inspect's OpenAPI schema for its log format (vendored from inspect_ai, MIT), turned into a
 * JSON Schema document that ajv can compile: components become `$defs`, refs are rewritten, and
 * OpenAPI `discriminator` keywords (which ajv does not read) are dropped; the `oneOf`/`anyOf`
 * they annotate still validate.
 */
export const INSPECT_SCHEMA_FILE = fileURLToPath(
  new URL("../../schemas/inspect-openapi.json", import.meta.url),
);

/**
 * The inspect_ai commit the vendored schema was copied from (its
 * `src/inspect_ai/_view/inspect-openapi.json`); schemas/inspect-openapi.source.json says the same
 * beside the file, and `refreshInspectSchema` rewrites both.
 */
export const INSPECT_SCHEMA_COMMIT = "b3c6e5687b0e09260f425b02ffbf0e4c7f7ae33d";
export const INSPECT_SCHEMA_SOURCE_FILE = fileURLToPath(
  new URL("../../schemas/inspect-openapi.source.json", import.meta.url),
);
export const INSPECT_SCHEMA_PATH = "src/inspect_ai/_view/inspect-openapi.json";

/** Where inspect_ai's schema of a commit is served. */
export function inspectSchemaUrl(commit: string): string {
  return `https://raw.githubusercontent.com/UKGovernmentBEIS/inspect_ai/${commit}/${INSPECT_SCHEMA_PATH}`;
}

/** Validators by schema file (the vendored one, or a refreshed copy under test). */
const validators = new Map<string, ValidateFunction>();

function dropDiscriminators(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropDiscriminators);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      if (k !== "discriminator") out[k] = dropDiscriminators(v);
    return out;
  }
  return value;
}

export function evalLogValidator(file = INSPECT_SCHEMA_FILE): ValidateFunction {
  const known = validators.get(file);
  if (known) return known;
  const openapi = JSON.parse(readFileSync(file, "utf8")) as {
    components: { schemas: Record<string, unknown> };
  };
  const doc = JSON.parse(
    JSON.stringify({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      $id: "inspect",
      $defs: dropDiscriminators(openapi.components.schemas),
    }).replaceAll("#/components/schemas/", "#/$defs/"),
  );
  const Ajv = Ajv2020 as unknown as typeof Ajv2020.default;
  const ajv = new Ajv({ strict: false, allErrors: true });
  (addFormats as unknown as typeof addFormats.default)(ajv);
  ajv.addSchema(doc);
  const v = ajv.getSchema("inspect#/$defs/EvalLog");
  if (!v) throw new Error(`Inspect schema ${file} has no EvalLog`);
  validators.set(file, v);
  return v;
}

/** Validation errors of an Inspect eval log, as readable lines; empty when it is valid. */
export function validateEvalLog(log: unknown, schemaFile?: string): string[] {
  const v = evalLogValidator(schemaFile);
  if (v(log)) return [];
  return (v.errors ?? []).slice(0, 20).map((e) => `${e.instancePath || "/"} ${e.message ?? ""}`);
}

export interface SchemaRefresh {
  /** The inspect_ai commit to copy from (its schema's URL unless `url` is given). */
  commit: string;
  url?: string;
  /** Where to write the schema and its source record (the vendored files unless told). */
  file?: string;
  sourceFile?: string;
}

/**
 * Copies Inspect's schema of a commit over the vendored one and records where it came from. A
 * body that is not an OpenAPI document with an EvalLog is refused before anything is written.
 */
export async function refreshInspectSchema(r: SchemaRefresh): Promise<{ file: string }> {
  const url = r.url ?? inspectSchemaUrl(r.commit);
  const res = await fetch(url);
  if (!res.ok)
    throw new SpecsciError(`fetching Inspect's schema from ${url}: HTTP ${res.status}`, {
      hint: "check the commit (a full inspect_ai commit hash) and the network",
    });
  const body = await res.text();
  let doc: { components?: { schemas?: Record<string, unknown> } };
  try {
    doc = JSON.parse(body);
  } catch {
    throw new SpecsciError(`${url} is not JSON`, { hint: "give the URL of inspect-openapi.json" });
  }
  if (!doc.components?.schemas?.EvalLog)
    throw new SpecsciError(`${url} has no components.schemas.EvalLog`, {
      hint: "give the URL of inspect_ai's inspect-openapi.json",
    });
  const file = r.file ?? INSPECT_SCHEMA_FILE;
  writeFileSync(file, body);
  writeFileSync(
    r.sourceFile ?? INSPECT_SCHEMA_SOURCE_FILE,
    `${JSON.stringify({ repository: "UKGovernmentBEIS/inspect_ai", path: INSPECT_SCHEMA_PATH, commit: r.commit, url }, null, 2)}\n`,
  );
  validators.delete(file);
  return { file };
}
