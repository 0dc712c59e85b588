/**
 * The loopback ceiling for bench/llm-run.ts, in its own process: N chat-completion POSTs to the
 * fake's OpenAI endpoint over a keep-alive node:http agent, `inFlight` at a time, each answer read
 * whole and parsed, with no SDK, cache or store. Prints {"callsPerSecond", "seconds"} as JSON,
 * timed from the first request to the last answer (start-up excluded: this is the ceiling).
 *
 * Usage: tsx bench/bare-http-client.ts <port> <n> <inFlight>
 */
import { Agent, request } from "node:http";

const [port, n, inFlight] = process.argv.slice(2).map(Number) as [number, number, number];
const agent = new Agent({ keepAlive: true, maxSockets: inFlight });

function post(i: number): Promise<void> {
  const body = JSON.stringify({
    model: "m",
    messages: [{ role: "user", content: `bare client request ${i}` }],
    max_tokens: 64,
  });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/v1/chat/completions",
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const answer = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
            choices?: unknown[];
          };
          if (res.statusCode !== 200 || !answer.choices?.length)
            reject(new Error(`bare client: HTTP ${res.statusCode}`));
          else resolve();
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function worker(next: () => number): Promise<void> {
  for (let i = next(); i < n; i = next()) await post(i);
}

let issued = 0;
const t0 = performance.now();
await Promise.all(Array.from({ length: inFlight }, () => worker(() => issued++)));
const seconds = (performance.now() - t0) / 1000;
agent.destroy();
process.stdout.write(`${JSON.stringify({ callsPerSecond: n / seconds, seconds })}\n`);
