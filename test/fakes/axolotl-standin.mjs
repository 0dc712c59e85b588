#!/usr/bin/env node
// A stand-in for the axolotl CLI in tests: `train CONFIG` and `merge-lora CONFIG --lora-model-dir D`.
// It reads the config specsci wrote, logs as the Hugging Face trainer does (a tqdm bar on stderr,
// metric dicts on stdout), saves checkpoint-N every 3 steps, resumes from resume_from_checkpoint,
// and writes an adapter (or model) at the end. STANDIN_CRASH_AT=N makes a fresh run die at step N.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
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
if (config.rl !== undefined) checkRl(config, JSON.parse(firstLine));
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

function fail(message) {
  console.error(`ValueError: ${message}`);
  process.exit(1);
}
