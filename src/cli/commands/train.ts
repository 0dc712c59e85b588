import { join } from "node:path";
import { formatCount, log, SpecsciError } from "../../core/index.js";
import {
  BASES,
  cancelTogether,
  configText,
  describeBase,
  ESTIMATE_AT,
  endpointsYaml,
  estimateTraining,
  externalModel,
  gpuInventory,
  loadTrainPlan,
  type RunningServers,
  registerExternalModel,
  runDirOf,
  type ServingEngine,
  servingPlan,
  startServers,
  startSlurmServers,
  submitToSlurm,
  trainedModels,
  trainWithEngine,
} from "../../train/index.js";
import type { CliContext } from "../context.js";
import { withInterrupt } from "../interrupt.js";
import { printJson, printTable } from "../output.js";

/** `specsci train plan` */
export async function trainPlan(ctx: CliContext, file: string, o: { showConfig?: boolean }) {
  const loaded = loadTrainPlan(file);
  const est = await estimateTraining(loaded);
  if (ctx.json)
    return printJson({
      plan: loaded.plan,
      stages: est.stages,
      gpuHours: est.gpuHours,
      wallHours: est.wallHours,
    });
  const hw = loaded.plan.hardware;
  process.stdout.write(
    `${loaded.plan.name}: ${loaded.plan.base_model}, ${loaded.plan.seeds.length} seed(s), ${hw.nodes} node(s) × ${hw.gpus_per_node} GPU(s), engine ${loaded.plan.engine}\n\n`,
  );
  printTable(
    ["seed", "stage", "kind", "examples", "tokens", "epochs", "GPU-hours", "config"],
    est.stages.map((s) => [
      s.seed,
      s.stage,
      s.kind,
      s.examples,
      formatCount(s.tokens),
      s.epochs,
      s.gpuHours.toFixed(2),
      s.config,
    ]),
  );
  process.stdout.write(
    `\n${est.gpuHours.toFixed(1)} GPU-hours, about ${est.wallHours.toFixed(1)} hours of wall time, at ${hw.tokens_per_gpu_second} tokens per GPU-second (hardware.tokens_per_gpu_second).\n`,
  );
  if (o.showConfig)
    for (const c of est.configs.get(loaded.plan.seeds[0] as number) ?? [])
      process.stdout.write(`\n# ${c.path}\n${configText(c)}`);
}

/** `specsci train run` */
export async function trainRun(
  ctx: CliContext,
  file: string,
  o: { seed: string[]; slurm?: boolean },
) {
  const loaded = loadTrainPlan(file);
  const seeds = o.seed.length ? o.seed.map(Number) : loaded.plan.seeds;
  for (const s of seeds)
    if (!loaded.plan.seeds.includes(s))
      throw new SpecsciError(
        `seed ${s} is not in the plan (seeds: ${loaded.plan.seeds.join(", ")})`,
      );
  if (o.slurm) {
    await submitToSlurm(
      loaded,
      seeds,
      () => ctx.store,
      (j) =>
        process.stdout.write(
          j.parent
            ? `seed ${j.seed}: ${j.plan} job ${j.job}\n`
            : `seed ${j.seed}: job ${j.job}${j.after ? ` (after ${j.after})` : ""} (${j.script})\n`,
        ),
    );
    return;
  }
  const artifacts = await withInterrupt((signal) =>
    trainWithEngine(loaded, ctx.store, { seeds, signal, log: (m) => log.info(m) }),
  );
  if (ctx.json) return printJson(artifacts);
  printTable(
    ["model", "stages", "seed", "output"],
    artifacts.map((a) => [a.id, a.stages.map((s) => s.name).join(" → "), a.seed, a.output_dir]),
  );
  process.stdout.write(
    `\nlogs and configs in ${join(runDirOf(loaded, seeds[0] as number), "..")}\n`,
  );
}

/** `specsci train list` */
export function trainList(ctx: CliContext) {
  const models = trainedModels(ctx.store);
  if (ctx.json) return printJson(models);
  printTable(
    ["model", "base", "stages", "seed", "adapter", "output"],
    models.map((m) => [
      m.id,
      m.base_model,
      m.stages.map((s) => `${s.name}(${s.kind})`).join(" → "),
      m.seed,
      m.adapter ? "LoRA" : "full",
      m.output_dir,
    ]),
  );
}

/** `specsci train serve` */
export async function trainServe(
  ctx: CliContext,
  o: {
    engine: string;
    model: string[];
    host: string;
    port?: number;
    endpoint: string;
    start?: boolean;
    slurm?: boolean;
    timeout: number;
  },
) {
  if (o.engine !== "vllm" && o.engine !== "sglang")
    throw new SpecsciError(`--engine ${o.engine}: use vllm or sglang`);
  const engine = o.engine as ServingEngine;
  let models = trainedModels(ctx.store);
  if (o.model.length) {
    const unknown = o.model.filter((m) => !models.some((x) => x.id === m));
    if (unknown.length)
      throw new SpecsciError(`no trained model ${unknown.join(", ")}`, {
        hint: "`specsci train list` shows the trained models",
      });
    models = models.filter((m) => o.model.includes(m.id));
  }
  const serving = ctx.config.serving;
  // A cluster's GPUs are not this machine's: only specsci.yaml describes them.
  const gpus = gpuInventory(serving, o.slurm ? () => undefined : undefined);
  // A job's server is called from another machine, so it listens on the node's addresses.
  const host = o.slurm && o.host === "127.0.0.1" ? "0.0.0.0" : o.host;
  const plans = servingPlan(models, {
    engine,
    host,
    ...(o.port !== undefined ? { port: o.port } : {}),
    serving,
    ...(gpus ? { gpus } : {}),
    ...(o.slurm ? { jobs: true } : {}),
  });
  const yaml = endpointsYaml(plans, o.endpoint, o.host, engine);
  const hosted = models.filter((m) => m.engine === "together");
  if (hosted.length)
    log.info(
      `trained on Together, so served there (not here): ${hosted.map((m) => `together/${m.output_dir}`).join(", ")}`,
    );
  if (host !== "127.0.0.1" && host !== "localhost")
    log.warn(
      `the servers will accept connections on ${host} without authentication; keep them on a private network`,
    );
  if (!o.start && !o.slurm) {
    if (ctx.json) return printJson({ servers: plans, endpoints: yaml });
    for (const p of plans)
      process.stdout.write(
        `# ${p.parallel.why}\n${p.gpus ? `CUDA_VISIBLE_DEVICES=${p.gpus.join(",")} ` : ""}${p.command.join(" ")}\n`,
      );
    if (plans.some((p) => p.parallel.nodes > 1))
      process.stdout.write(
        "# a server spanning nodes runs on the head node of a Ray cluster: `ray start --head` there and `ray start --address=<head>:6379` on the others first\n",
      );
    process.stdout.write(`\nthen add to specsci.yaml:\n${yaml}`);
    return;
  }
  await withInterrupt(async (signal) => {
    const common = {
      engine,
      endpoint: o.endpoint,
      timeoutMs: o.timeout * 1000,
      store: ctx.store,
      signal,
      log: (m: string) => log.info(m),
    };
    // As Slurm jobs (one per server, cancelled at the end), or here.
    const servers = o.slurm
      ? await startSlurmServers(plans, {
          ...common,
          slurm: serving.slurm,
          dir: join(ctx.workspaceDir, "serve"),
        })
      : await startServers(plans, { ...common, host: o.host });
    await serveUntilStopped(
      servers,
      signal,
      o.slurm
        ? `ready, and registered in this workspace: ${servers.models.map((m) => `${m.id} (${m.base_url})`).join(", ")}\n`
        : `ready, and registered in this workspace (no config needed): ${servers.models.map((m) => m.id).join(", ")}\nfrom another workspace, add to specsci.yaml:\n${yaml}`,
    );
  });
}

/** Serves until interrupted or a server exits, then stops the servers. */
async function serveUntilStopped(servers: RunningServers, signal: AbortSignal, ready: string) {
  try {
    process.stdout.write(ready);
    const why = await Promise.race([
      servers.exited,
      new Promise<string>((resolve) =>
        signal.addEventListener("abort", () => resolve(""), { once: true }),
      ),
    ]);
    if (why) log.warn(why);
  } finally {
    await servers.stop();
  }
}

/** `specsci train cancel` */
export async function trainCancel(ctx: CliContext, file: string, o: { seed: string[] }) {
  const loaded = loadTrainPlan(file);
  if (loaded.plan.engine !== "together")
    throw new SpecsciError(
      `${file} trains with ${loaded.plan.engine}; cancel applies to Together jobs`,
      {
        hint: "stop a local run with Ctrl-C (it resumes from its last checkpoint), or scancel a Slurm job",
      },
    );
  const cancelled = await cancelTogether(loaded, ctx.store, {
    ...(o.seed.length ? { seeds: o.seed.map(Number) } : {}),
  });
  if (ctx.json) return printJson(cancelled);
  if (!cancelled.length) process.stdout.write("no running job to cancel\n");
  for (const c of cancelled) process.stdout.write(`${c.run} ${c.stage}: ${c.job} ${c.status}\n`);
}

/** `specsci train register` */
export function trainRegister(
  ctx: CliContext,
  o: {
    name: string;
    base: string;
    path: string;
    full?: boolean;
    seed?: number;
    provenance?: string;
  },
) {
  const artifact = externalModel(o);
  registerExternalModel(ctx.store, o.name, artifact);
  if (ctx.json) return printJson(artifact);
  process.stdout.write(
    `registered ${artifact.id} (${artifact.adapter ? "LoRA adapter" : "full model"} on ${o.base}); \`specsci train serve\` serves it\n`,
  );
}

/** `specsci train bases` */
export function trainBases(ctx: CliContext) {
  const bases = BASES.map(describeBase);
  if (ctx.json) return printJson(bases);
  printTable(
    [
      "family",
      "Hugging Face ids",
      "tokenizer",
      "LoRA targets",
      "lr / r / α",
      "licence",
      "GPU GiB by size",
    ],
    bases.map((b) => [
      b.family,
      b.examples.join(", "),
      b.tokenizer.approximate ? `≈ ${b.tokenizer.package} (approximate)` : b.tokenizer.package,
      Array.isArray(b.lora_targets) ? b.lora_targets.join(",") : b.lora_targets,
      `${b.defaults.learning_rate} / ${b.defaults.lora_r} / ${b.defaults.lora_alpha}`,
      `${b.licence.split(" (")[0]}${b.gated ? ", gated" : ""}`,
      b.sizes.map((s) => `${s.size} ${s.memory_gib}`).join(", "),
    ]),
  );
  const approx = bases.filter((b) => b.tokenizer.approximate);
  process.stdout.write(
    `\n${approx.map((b) => `${b.family}: tokens approximated: ${b.tokenizer.why}`).join("\n")}\n` +
      `${bases
        .filter((b) => b.gated)
        .map((b) => `${b.family}: ${b.note}`)
        .join("\n")}\n` +
      `GPU memory: one GPU, LoRA r ${ESTIMATE_AT.lora_r}, sequence ${ESTIMATE_AT.sequence_len}, micro-batch ${ESTIMATE_AT.micro_batch_size}: bf16 weights + LoRA (16 bytes per trainable parameter) + checkpointed activations and fp32 logits; a rough lower bound.\n` +
      "`--json` prints each family's chat template (Jinja) too; a base outside these patterns needs base_family in the plan.\n",
  );
}
