/**
 * A loopback fake of Together's fine-tuning REST API: file upload (multipart), job creation,
 * status (pending → running → completed over a few polls), events and cancel. A job whose suffix
 * contains "fail" ends in status "error" with an event saying why. Requests are recorded.
 * A wrong key gets a 401 that echoes it; with `echoKey`, job records and events echo the key the
 * request came with (as a careless proxy might), to test that nothing stores or prints it.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

interface FakeJob {
  id: string;
  body: Record<string, unknown>;
  polls: number;
  status: string;
}

export class FakeTogetherServer {
  private server: Server | undefined;
  readonly uploads: { fileName: string; purpose: string; bytes: number }[] = [];
  readonly jobs = new Map<string, FakeJob>();
  url = "";

  constructor(
    private readonly apiKey: string,
    private readonly options: { echoKey?: boolean; pollsToFinish?: number } = {},
  ) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      const auth = req.headers.authorization ?? "";
      if (auth !== `Bearer ${this.apiKey}`)
        return send(401, { error: { message: `invalid api key in ${auth}` } });
      const echo = this.options.echoKey ? { request_auth: auth } : {};
      void readBody(req).then((raw) => {
        const url = req.url ?? "";
        if (req.method === "POST" && url === "/v1/files/upload") {
          const text = raw.toString("latin1");
          const field = (name: string) =>
            new RegExp(`name="${name}"\\r\\n\\r\\n([^\\r]*)`).exec(text)?.[1] ?? "";
          if (!/name="file"; filename="/.test(text))
            return send(400, { error: { message: "no file" } });
          this.uploads.push({
            fileName: field("file_name"),
            purpose: field("purpose"),
            bytes: raw.length,
          });
          return send(200, {
            id: `file-${this.uploads.length}`,
            object: "file",
            purpose: field("purpose"),
          });
        }
        if (req.method === "POST" && url === "/v1/fine-tunes") {
          const body = JSON.parse(raw.toString("utf8")) as Record<string, unknown>;
          if (typeof body.training_file !== "string")
            return send(400, { error: { message: "training_file is required" } });
          // As Together's SDK insists: a base model or a checkpoint to continue, not both.
          if ((typeof body.model === "string") === (typeof body.from_checkpoint === "string"))
            return send(400, { error: { message: "give either model or from_checkpoint" } });
          // The scheduler as Together's API reference types it: linear takes min_lr_ratio; cosine
          // also needs num_cycles.
          const lr = body.lr_scheduler as
            | { lr_scheduler_type?: string; lr_scheduler_args?: Record<string, unknown> }
            | undefined;
          if (lr !== undefined) {
            const args = lr.lr_scheduler_args ?? {};
            const bad =
              !["linear", "cosine"].includes(String(lr.lr_scheduler_type)) ||
              (lr.lr_scheduler_type === "cosine" &&
                (typeof args.min_lr_ratio !== "number" || typeof args.num_cycles !== "number"));
            if (bad) return send(400, { error: { message: "invalid lr_scheduler" } });
          }
          if (typeof body.from_checkpoint === "string") {
            const from = this.jobs.get(body.from_checkpoint);
            if (!from) return send(400, { error: { message: "unknown checkpoint" } });
            body.model = from.body.model;
          }
          const id = `ft-${this.jobs.size + 1}`;
          this.jobs.set(id, { id, body, polls: 0, status: "pending" });
          return send(200, { id, status: "pending", model: body.model });
        }
        const m = /^\/v1\/fine-tunes\/([^/]+)(\/events|\/cancel)?$/.exec(url);
        const job = m ? this.jobs.get(m[1] as string) : undefined;
        if (!job) return send(404, { error: { message: "not found" } });
        if (m?.[2] === "/cancel") {
          job.status = "cancelled";
          return send(200, { id: job.id, status: job.status });
        }
        const failing = String(job.body.suffix).includes("fail");
        if (m?.[2] === "/events")
          return send(200, {
            data: [
              { object: "fine-tune-event", type: "job_start", message: "started" },
              ...(job.status === "error"
                ? [
                    {
                      type: "job_error",
                      message: `the training file has no valid lines${this.options.echoKey ? ` (${auth})` : ""}`,
                    },
                  ]
                : []),
            ],
          });
        if (job.status !== "cancelled") {
          job.polls++;
          const finish = this.options.pollsToFinish ?? 3;
          job.status =
            job.polls < finish - 1
              ? "pending"
              : job.polls < finish
                ? "running"
                : failing
                  ? "error"
                  : "completed";
        }
        return send(200, {
          id: job.id,
          status: job.status,
          model: job.body.model,
          token_count: 1234,
          total_price: 5,
          ...echo,
          ...(job.status === "completed"
            ? {
                model_output_name: `ns/${String(job.body.model)}-${String(job.body.suffix)}${this.options.echoKey ? `-${auth}` : ""}`,
              }
            : {}),
        });
      });
    });
    const server = this.server;
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    return this;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server?.close(() => r()));
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
  });
}
