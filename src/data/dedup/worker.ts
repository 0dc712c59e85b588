/**
 * A dedup worker thread: fingerprints each chunk of texts it is sent and transfers the result
 * buffers back (no copy). Started by index.ts with the SignConfig as workerData.
 */
import { parentPort, workerData } from "node:worker_threads";
import { fingerprint, type SignConfig } from "./minhash.js";

/** main → worker: fingerprint these texts, which start at input index `start`. */
export interface ChunkRequest {
  start: number;
  texts: string[];
}

/** worker → main. */
export interface ChunkResult {
  start: number;
  signatures: ArrayBuffer;
  digests: ArrayBuffer;
}

const port = parentPort;
if (port === null) throw new Error("dedup/worker.ts runs only as a worker thread");
const config = workerData as SignConfig;
port.on("message", ({ start, texts }: ChunkRequest) => {
  const { signatures, digests } = fingerprint(texts, config);
  const result: ChunkResult = {
    start,
    signatures: signatures.buffer as ArrayBuffer,
    digests: digests.buffer as ArrayBuffer,
  };
  port.postMessage(result, [result.signatures, result.digests]);
});
