import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    pool: "forks",
    // Most test time is spent waiting on CLI subprocesses and loopback servers, so one worker per
    // core (vitest's default leaves one core idle: a single worker on a 2-core machine) halves
    // the suite's time there without starving anything.
    maxWorkers: Math.max(2, availableParallelism()),
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Keys from the developer's shell must never reach a test (tests plant their own).
    env: {
      ANTHROPIC_API_KEY: "",
      OPENAI_API_KEY: "",
      HF_TOKEN: "",
      SPECSCI_WORKSPACE: "",
      SPECSCI_CONFIG: "",
      // Nothing in a test reaches the real Hub: tests that download start their own fake.
      HF_ENDPOINT: "http://127.0.0.1:9",
    },
  },
});
