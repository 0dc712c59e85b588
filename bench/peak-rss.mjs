/**
 * `node --import ./bench/peak-rss.mjs …` writes the process's peak resident set size (bytes) to
 * the file named by SPECSCI_PEAK_RSS when it exits: how bench/memory.ts measures the real CLI
 * (the kernel's own high-water mark, so no sampling can miss a short peak).
 */
import { writeFileSync } from "node:fs";

process.on("exit", () => {
  // resourceUsage().maxRSS is in kilobytes (getrusage's ru_maxrss on Linux).
  writeFileSync(process.env.SPECSCI_PEAK_RSS, String(process.resourceUsage().maxRSS * 1024));
});
