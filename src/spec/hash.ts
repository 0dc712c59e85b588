import { sha256Hex } from "../core/hash.js";
import type { Spec } from "./model.js";
import { renderSpec } from "./render.js";

/** A spec's identity: the sha256 of its canonical Markdown (front matter included). */
export function specHash(spec: Spec): string {
  return sha256Hex(renderSpec(spec));
}
