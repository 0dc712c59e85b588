/** Runs the loopback fake in its own process so the benchmark client does not share its core. */
import { FakeLlmServer } from "../test/fakes/llm-server.js";

const server = await new FakeLlmServer({
  record: false,
  vary: process.argv.includes("--vary"),
}).start();
process.stdout.write(`${server.port}\n`);
process.on("SIGTERM", () => {
  server.stop().then(() => process.exit(0));
});
