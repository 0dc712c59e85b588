/**
 * `node --import ./bench/peak-rss.mjs …` writes the process's peak resident set size (bytes) to
 * the file named by SPECSCI_PEAK_RSS when it exits: how bench/memory.ts measures the real CLI
 * (the kernel's own high-water mark, so no sampling can miss a short peak). Beside it, in
 * `<file>.cpu`, the process's CPU time (user + sys, seconds, every thread): on a loaded machine
 * a steadier measure of a change than the wall time.
 */
import { writeFileSync } from "node:fs";

process.on("exit", () => {
  // resourceUsage().maxRSS is in kilobytes (getrusage's ru_maxrss on Linux).
  const usage = process.resourceUsage();
  writeFileSync(process.env.SPECSCI_PEAK_RSS, String(usage.maxRSS * 1024));
  const cpuSeconds = (usage.userCPUTime + usage.systemCPUTime) / 1e6;
  writeFileSync(`${process.env.SPECSCI_PEAK_RSS}.cpu`, String(cpuSeconds));
});
