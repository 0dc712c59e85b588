import { stringify as yamlText } from "yaml";
import { type ChatMessage, listProviders, servedModel, servedModels } from "../../llm/index.js";
import type { CliContext } from "../context.js";
import { formatUsd, printJson, printTable } from "../output.js";

/** `specsci models test` */
export async function modelsTest(
  ctx: CliContext,
  id: string,
  opts: {
    prompt: string;
    system?: string;
    maxTokens: number;
    temperature?: number;
    useCache?: boolean;
  },
) {
  const llm = ctx.llm(opts.useCache ? undefined : "off");
  const messages: ChatMessage[] = [];
  if (opts.system) messages.push({ role: "system", content: opts.system });
  messages.push({ role: "user", content: opts.prompt });
  const params: { max_tokens: number; temperature?: number } = { max_tokens: opts.maxTokens };
  if (opts.temperature !== undefined) params.temperature = opts.temperature;
  const c = await llm
    .model(id)
    .generate({ messages, params }, { context: { stage: "models-test" } });
  if (ctx.json) return printJson(c);
  process.stdout.write(`${c.text}\n\n`);
  if (c.reasoning) process.stdout.write(`reasoning: ${c.reasoning.length} characters\n`);
  if (c.refusal) process.stdout.write(`refusal: ${c.refusal}\n`);
  process.stdout.write(
    `${[
      `model:       ${c.model}`,
      `stop reason: ${c.stopReason} (provider: ${c.providerStopReason ?? "none"})`,
      `usage:       ${c.usage.input_tokens ?? "unknown"} input, ${c.usage.output_tokens ?? "unknown"} output tokens`,
      `latency:     ${Math.round(c.latencyMs)} ms (${c.attempts} attempt${c.attempts === 1 ? "" : "s"}, ${c.source})`,
      `cost:        ${formatUsd(c.costUsd)}`,
    ].join("\n")}\n`,
  );
  if (c.stopReason === "max_tokens")
    process.stderr.write("warning: the answer was cut off by --max-tokens\n");
}

/** `specsci models list` */
export function modelsList(ctx: CliContext) {
  const rows = listProviders(ctx.config);
  if (ctx.json) return printJson(rows);
  printTable(
    ["provider", "base url", "key env var", "key", "batch"],
    rows.map((r) => [r.provider, r.base_url, r.key_env, r.key, r.batch ? "yes" : "no"]),
  );
  const served = servedModels(ctx.store);
  if (served.length) {
    process.stdout.write("\nserved trained models (registered in this workspace):\n");
    printTable(
      ["model id", "base url", "trained model"],
      served.map((m) => [m.id, m.base_url, m.artifact]),
    );
  }
  const trained = ctx.store.artifacts.list("model").length;
  if (trained)
    process.stdout.write(
      `\n${trained} trained model(s): \`specsci train list\`, and \`specsci models show ID\` for one's whole record\n`,
    );
}

/** `specsci models show` */
export function modelsShow(ctx: CliContext, id: string) {
  const served = servedModel(ctx.store, id);
  const artifactId = served?.artifact ?? id;
  const trained = ctx.store.artifacts
    .list("model")
    .map((a) => JSON.parse(a.content) as { id: string })
    .find((m) => m.id === artifactId);
  if (!trained && !served) {
    // Any other id: where it resolves (no call is made).
    const r = ctx.llm().registry.resolve(id);
    const record = { id, provider: r.provider, name: r.name, identity: r.model.identity };
    if (ctx.json) return printJson(record);
    process.stdout.write(`${yamlText(record)}`);
    return;
  }
  const record = { ...(served ? { served } : {}), ...(trained ? { trained } : {}) };
  if (ctx.json) return printJson(record);
  process.stdout.write(yamlText(record));
}
