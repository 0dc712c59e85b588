/**
 * A minimal GGUF v3 writer: enough to write small llama-architecture models whose weights we choose
 * ourselves (the built-in tiny model). Written by hand because no maintained npm package writes
 * GGUF; `@huggingface/gguf` and node-llama-cpp only read it.
 *
 * Format facts (little-endian): magic "GGUF", u32 version, u64 tensor count, u64 metadata count,
 * metadata key/values, tensor infos, padding to `general.alignment`, then tensor data, each tensor
 * padded to the alignment.
 */

export const GGUF_MAGIC = "GGUF";
const ALIGNMENT = 32;

export type GgufValue =
  | { type: "u32"; value: number }
  | { type: "i32"; value: number }
  | { type: "f32"; value: number }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "string[]"; value: string[] }
  | { type: "i32[]"; value: number[] }
  | { type: "f32[]"; value: number[] };

export interface GgufTensor {
  name: string;
  /** Dimensions in ggml order: dims[0] is the row length. */
  dims: number[];
  data: Float32Array;
}

const T = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10 } as const;

class ByteSink {
  private chunks: Buffer[] = [];
  length = 0;
  push(buf: Buffer): void {
    this.chunks.push(buf);
    this.length += buf.length;
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  i32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    this.push(b);
  }
  u64(v: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  f32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.push(b);
  }
  str(s: string): void {
    const bytes = Buffer.from(s, "utf8");
    this.u64(bytes.length);
    this.push(bytes);
  }
  padTo(alignment: number): void {
    const rem = this.length % alignment;
    if (rem !== 0) this.push(Buffer.alloc(alignment - rem));
  }
  concat(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}

function writeValue(out: ByteSink, v: GgufValue): void {
  switch (v.type) {
    case "u32":
      out.u32(T.u32);
      out.u32(v.value);
      return;
    case "i32":
      out.u32(T.i32);
      out.i32(v.value);
      return;
    case "f32":
      out.u32(T.f32);
      out.f32(v.value);
      return;
    case "bool":
      out.u32(T.bool);
      out.push(Buffer.from([v.value ? 1 : 0]));
      return;
    case "string":
      out.u32(T.string);
      out.str(v.value);
      return;
    case "string[]":
      out.u32(T.array);
      out.u32(T.string);
      out.u64(v.value.length);
      for (const s of v.value) out.str(s);
      return;
    case "i32[]":
      out.u32(T.array);
      out.u32(T.i32);
      out.u64(v.value.length);
      for (const n of v.value) out.i32(n);
      return;
    case "f32[]":
      out.u32(T.array);
      out.u32(T.f32);
      out.u64(v.value.length);
      for (const n of v.value) out.f32(n);
      return;
  }
}

/** Serializes metadata and F32 tensors into a complete GGUF v3 file image. */
export function writeGguf(metadata: Record<string, GgufValue>, tensors: GgufTensor[]): Buffer {
  const out = new ByteSink();
  out.push(Buffer.from(GGUF_MAGIC, "ascii"));
  out.u32(3);
  out.u64(tensors.length);
  const entries = Object.entries({
    ...metadata,
    "general.alignment": { type: "u32", value: ALIGNMENT } as GgufValue,
  });
  out.u64(entries.length);
  for (const [key, value] of entries) {
    out.str(key);
    writeValue(out, value);
  }

  let offset = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    const expected = t.dims.reduce((a, b) => a * b, 1);
    if (expected !== t.data.length) {
      throw new Error(`tensor ${t.name}: dims ${t.dims.join("x")} do not match ${t.data.length}`);
    }
    out.str(t.name);
    out.u32(t.dims.length);
    for (const d of t.dims) out.u64(d);
    out.u32(0); // GGML_TYPE_F32
    out.u64(offset);
    offsets.push(offset);
    offset += Math.ceil((t.data.length * 4) / ALIGNMENT) * ALIGNMENT;
  }
  out.padTo(ALIGNMENT);

  for (const t of tensors) {
    out.push(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    out.padTo(ALIGNMENT);
  }
  return out.concat();
}
