#!/usr/bin/env node
// A stand-in for `vllm serve BASE --host H --port P --enable-lora ... --lora-modules a=path b=path`:
// an OpenAI-compatible server that lists the base model and every LoRA module, and answers chats.
import { createServer } from "node:http";

const args = process.argv.slice(2);
const opt = (name) => args[args.indexOf(name) + 1];
const base = args[1];
const modules = [];
const i = args.indexOf("--lora-modules");
if (i >= 0)
  for (const a of args.slice(i + 1))
    if (!a.startsWith("--")) modules.push(a.split("=")[0]);
    else break;
const names = [
  args.includes("--served-model-name") ? opt("--served-model-name") : base,
  ...modules,
];
const server = createServer((req, res) => {
  // What it was started with, for tests of the launch (not part of vLLM's API).
  if (req.url === "/standin") {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ args, cuda_visible_devices: process.env.CUDA_VISIBLE_DEVICES }));
    return;
  }
  if (req.url === "/v1/models") {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ object: "list", data: names.map((id) => ({ id, object: "model" })) }));
    return;
  }
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    const { model } = JSON.parse(body || "{}");
    res.setHeader("content-type", "application/json");
    res.end(
      JSON.stringify({
        id: "x",
        object: "chat.completion",
        created: 0,
        model,
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: `served by ${model}` },
            finish_reason: "stop",
          },
        ],
        usage: { prompt_tokens: 1, completion_tokens: 3, total_tokens: 4 },
      }),
    );
  });
});
server.listen(Number(opt("--port")), opt("--host"), () =>
  console.log("INFO:     Application startup complete."),
);
process.on("SIGTERM", () => server.close(() => process.exit(0)));
