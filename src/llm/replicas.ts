/**
 * Several replicas of one served model as one endpoint (`endpoints.<name>.base_url: [url, ...]`):
 * each attempt goes to the healthy replica with the fewest calls in flight; a replica that
 * refuses connections, or answers a burst of 5xx, is taken out and brought back once its health
 * check answers (`/health` at its origin, else `/models` under its base URL). An attempt goes to
 * one replica only: a retry (the layer above) picks again, never in parallel. The replicas share
 * the endpoint's limiter and cache identity (the first replica's URL), so adding one keeps the
 * cache; the replica that answered, or failed, is recorded with the call.
 */
import { ModelCallError } from "./errors.js";
import type { ChatRequest, ProviderModel, ProviderResult, SamplingParams } from "./types.js";

export interface ReplicaPolicy {
  /** 5xx answers (or timeouts) within `windowMs` that take a replica out. */
  serverErrors: number;
  windowMs: number;
  /** Between health checks of a replica that is out. */
  checkEveryMs: number;
}

export const DEFAULT_REPLICA_POLICY: ReplicaPolicy = {
  serverErrors: 3,
  windowMs: 10_000,
  checkEveryMs: 5_000,
};

class Replica {
  inFlight = 0;
  out = false;
  private errors: number[] = [];
  private check: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly url: string,
    readonly model: ProviderModel,
    private readonly policy: ReplicaPolicy,
    private readonly probe: (url: string) => Promise<boolean>,
  ) {}

  /** A fault of the replica rather than of the request: it may go out. */
  failed(e: unknown): void {
    if (!(e instanceof ModelCallError)) return;
    const now = Date.now();
    if (e.kind === "connection") {
      this.takeOut();
      return;
    }
    if (e.kind !== "server" && e.kind !== "overloaded" && e.kind !== "timeout") return;
    this.errors = [...this.errors.filter((t) => now - t < this.policy.windowMs), now];
    if (this.errors.length >= this.policy.serverErrors) this.takeOut();
  }

  succeeded(): void {
    this.errors = [];
  }

  private takeOut(): void {
    if (this.out) return;
    this.out = true;
    this.check = setInterval(() => {
      void this.probe(this.url).then((up) => {
        if (!up || !this.out) return;
        this.out = false;
        this.errors = [];
        clearInterval(this.check);
      });
    }, this.policy.checkEveryMs);
    // A replica that is out must not keep the process alive.
    this.check.unref();
  }
}

/** Whether a server answers its health check. */
export async function replicaHealthy(baseUrl: string): Promise<boolean> {
  const ok = (url: string) =>
    fetch(url, { signal: AbortSignal.timeout(3000) }).then(
      (r) => r.ok,
      () => false,
    );
  return (await ok(`${new URL(baseUrl).origin}/health`)) || ok(`${baseUrl}/models`);
}

export class ReplicaSet implements ProviderModel {
  readonly identity: Record<string, string>;
  /** As its replicas: each attempt is one replica's, timed out by it when it does so itself. */
  readonly timesOut: boolean;
  private readonly replicas: Replica[];

  constructor(
    readonly id: string,
    replicas: { url: string; model: ProviderModel }[],
    policy: ReplicaPolicy = DEFAULT_REPLICA_POLICY,
    probe: (url: string) => Promise<boolean> = replicaHealthy,
  ) {
    this.replicas = replicas.map((r) => new Replica(r.url, r.model, policy, probe));
    this.identity = (replicas[0] as { model: ProviderModel }).model.identity;
    this.timesOut = replicas.every((r) => r.model.timesOut === true);
  }

  /** The replica an attempt goes to: the healthy one with the fewest calls in flight. */
  private pick(): Replica {
    let best: Replica | undefined;
    for (const r of this.replicas) if (!r.out && (!best || r.inFlight < best.inFlight)) best = r;
    if (best) return best;
    throw new ModelCallError(
      "connection",
      `${this.id}: all ${this.replicas.length} replicas are out (${this.replicas.map((r) => r.url).join(", ")}); waiting for a health check to bring one back`,
    );
  }

  async complete(
    req: ChatRequest,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<ProviderResult> {
    const r = this.pick();
    r.inFlight++;
    try {
      const result = await r.model.complete(req, signal, timeoutMs);
      r.succeeded();
      return { ...result, replica: r.url };
    } catch (e) {
      r.failed(e);
      throw e instanceof ModelCallError ? e.atReplica(r.url) : e;
    } finally {
      r.inFlight--;
    }
  }

  droppedSettings(params: SamplingParams) {
    return this.replicas[0]?.model.droppedSettings?.(params) ?? [];
  }

  /** For `models list`/tests: each replica and whether it is in. */
  state(): { url: string; inFlight: number; out: boolean }[] {
    return this.replicas.map((r) => ({ url: r.url, inFlight: r.inFlight, out: r.out }));
  }
}
