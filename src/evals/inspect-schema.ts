import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

/**
 * Inspect's OpenAPI schema for its log format (vendored from inspect_ai, MIT), turned into a
 * JSON Schema document that ajv can compile: components become `$defs`, refs are rewritten, and
 * OpenAPI `discriminator` keywords (which ajv does not read) are dropped; the `oneOf`/`anyOf`
 * they annotate still validate.
 */
export const INSPECT_SCHEMA_FILE = fileURLToPath(
  new URL("../../schemas/inspect-openapi.json", import.meta.url),
);

let validator: ValidateFunction | undefined;

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

export function evalLogValidator(): ValidateFunction {
  if (validator) return validator;
  const openapi = JSON.parse(readFileSync(INSPECT_SCHEMA_FILE, "utf8")) as {
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
  if (!v) throw new Error("Inspect schema has no EvalLog");
  validator = v;
  return v;
}

/** Validation errors of an Inspect eval log, as readable lines; empty when it is valid. */
export function validateEvalLog(log: unknown): string[] {
  const v = evalLogValidator();
  if (v(log)) return [];
  return (v.errors ?? []).slice(0, 20).map((e) => `${e.instancePath || "/"} ${e.message ?? ""}`);
}
