#!/usr/bin/env node
// A stand-in for the axolotl CLI in tests: `train CONFIG`, `merge-lora CONFIG --lora-model-dir D`
// and `vllm-serve CONFIG` (a server answering TRL's /health/ until stopped). For rl: grpo, `train`
// imports the dataset transform and reward function with python3 (as axolotl does, from
// PYTHONPATH), scores one prompt's two completions, and waits for the vLLM server in server mode.
// It reads the config specsci wrote, logs as the Hugging Face trainer does (a tqdm bar on stderr,
// metric dicts on stdout), saves checkpoint-N every 3 steps, resumes from resume_from_checkpoint,
// and writes an adapter (or model) at the end. STANDIN_CRASH_AT=N makes a fresh run die at step N.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { parse } from "yaml";

const [cmd, file, ...rest] = process.argv.slice(2);
const config = parse(readFileSync(file, "utf8"));
if (cmd === "merge-lora") {
  const dir = rest[rest.indexOf("--lora-model-dir") + 1];
  mkdirSync(join(dir, "merged"), { recursive: true });
  writeFileSync(join(dir, "merged", "config.json"), JSON.stringify({ merged_from: dir }));
  process.exit(0);
}
if (cmd === "vllm-serve") {
  if (config.rl !== "grpo" || !config.vllm?.port) fail("vllm-serve wants rl: grpo and vllm.port");
  const server = createServer((req, res) => {
    res.writeHead(req.url === "/health/" ? 200 : 404);
    res.end();
  });
  server.listen(config.vllm.port, config.vllm.host, () =>
    console.log(
      `[vllm-serve] serving ${config.base_model} on ${config.vllm.host}:${config.vllm.port}; CUDA_VISIBLE_DEVICES=${process.env.CUDA_VISIBLE_DEVICES}`,
    ),
  );
  process.on("SIGTERM", () => {
    console.log("[vllm-serve] stopped");
    process.exit(0);
  });
  await new Promise(() => {});
}
if (cmd !== "train") {
  console.error(`unknown command ${cmd}`);
  process.exit(2);
}
for (const f of ["base_model", "datasets", "output_dir", "seed", "learning_rate"])
  if (config[f] === undefined) {
    console.error(`ValueError: config is missing ${f}`);
    process.exit(1);
  }
const firstLine = readFileSync(config.datasets[0].path, "utf8").split("\n")[0]; // the dataset must exist
if (config.rl === "grpo") await checkGrpo(config, JSON.parse(firstLine));
else if (config.rl !== undefined) checkRl(config, JSON.parse(firstLine));
const total = 10;
const start = config.resume_from_checkpoint
  ? Number(/checkpoint-(\d+)/.exec(config.resume_from_checkpoint)[1])
  : 0;
const crashAt = config.resume_from_checkpoint ? 0 : Number(process.env.STANDIN_CRASH_AT ?? 0);
console.log(`[axolotl] loading ${config.base_model}; seed ${config.seed}`);
for (let step = start + 1; step <= total; step++) {
  if (step === crashAt) {
    console.error(
      'Traceback (most recent call last):\n  File "train.py", line 1\ntorch.OutOfMemoryError: CUDA out of memory.',
    );
    process.exit(1);
  }
  process.stderr.write(
    `${Math.round((step / total) * 100)}%|####      | ${step}/${total} [00:0${step}<00:10,  1.00it/s]\n`,
  );
  const loss = (2.5 - step * 0.1).toFixed(4);
  console.log(
    `{'loss': ${loss}, 'grad_norm': 0.8, 'learning_rate': ${config.learning_rate}, 'epoch': ${(step / total).toFixed(2)}}`,
  );
  if (step % 3 === 0) mkdirSync(join(config.output_dir, `checkpoint-${step}`), { recursive: true });
}
console.log(`{'train_runtime': 10.0, 'train_loss': 2.0, 'epoch': 1.0}`);
mkdirSync(config.output_dir, { recursive: true });
if (config.adapter === "lora") {
  writeFileSync(
    join(config.output_dir, "adapter_config.json"),
    JSON.stringify({
      r: config.lora_r,
      lora_alpha: config.lora_alpha,
      base_model_name_or_path: config.base_model,
    }),
  );
  writeFileSync(join(config.output_dir, "adapter_model.safetensors"), "weights");
} else writeFileSync(join(config.output_dir, "config.json"), "{}");

/**
 * What axolotl checks of an `rl:` config, as its source has it: the RLType values
 * (schemas/enums.py), no sample packing (schemas/validation.py), and a preference loader of that
 * method (prompt_strategies/{dpo,orpo,kto}) whose fields the first line has.
 */
function checkRl(config, line) {
  const types = ["dpo", "gdpo", "grpo", "ipo", "orpo", "kto", "simpo", "ebft"];
  if (!types.includes(config.rl)) fail(`rl: '${config.rl}' is not a valid RLType`);
  if (config.sample_packing) fail("`sample_packing: true` does not work with RLHF training");
  const fields = {
    dpo: { "chat_template.default": ["messages", "chosen", "rejected"] },
    orpo: { "chat_template.argilla": ["chosen", "rejected"] },
    kto: { "chatml.prompt_pairs": ["prompt", "completion", "label"] },
  }[config.rl];
  const type = config.datasets[0].type;
  const need = fields?.[type];
  if (!need) fail(`no ${config.rl} prompt strategy ${type}`);
  for (const f of need) if (line[f] === undefined) fail(`KeyError: '${f}'`);
}

/**
 * What a GRPO run needs before its first step: the vLLM server up (server mode), then the dataset
 * transform and reward function importable (axolotl imports both by module name), which score a
 * prompt's completion that keeps to the spec (GOOD, for the test's judge) and one that does not.
 */
async function checkGrpo(config, line) {
  const trl = config.trl ?? {};
  if (!trl.use_vllm || !trl.reward_funcs?.length)
    fail("GRPO wants trl.use_vllm and trl.reward_funcs");
  console.log(`[grpo] CUDA_VISIBLE_DEVICES=${process.env.CUDA_VISIBLE_DEVICES}`);
  if (trl.vllm_mode === "server") await waitForServer(trl);
  const split = (fqn) => [fqn.split(".").slice(0, -1).join("."), fqn.split(".").at(-1)];
  const [tm, tf] = split(config.datasets[0].type);
  const [rm, rf] = split(trl.reward_funcs[0]);
  const python = [
    "import importlib, json, sys",
    `transform = getattr(importlib.import_module(${JSON.stringify(tm)}), ${JSON.stringify(tf)})`,
    `reward = getattr(importlib.import_module(${JSON.stringify(rm)}), ${JSON.stringify(rf)})`,
    "fn, kwargs = transform({}, dataset_idx=0)",
    "prompt = fn(json.loads(sys.argv[1]))['prompt']",
    "said = lambda t: [{'role': 'assistant', 'content': t}]",
    "print(json.dumps(reward([prompt, prompt], [said('GOOD'), said('bad')])))",
  ].join("\n");
  const r = spawnSync("python3", ["-c", python, JSON.stringify(line)], { encoding: "utf8" });
  if (r.status !== 0) {
    console.error(r.stderr);
    process.exit(1);
  }
  console.log(`[grpo] rewards ${r.stdout.trim()}`);
}

async function waitForServer(trl) {
  const url = `http://${trl.vllm_server_host}:${trl.vllm_server_port}/health/`;
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  fail(`ConnectionError: the vLLM server at ${url} is not up`);
}

function fail(message) {
  console.error(`ValueError: ${message}`);
  process.exit(1);
}
