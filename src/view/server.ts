/**
 * `specsci view`'s server: Hono on Node's http, serving the single-page app built into
 * dist/view/app at install time and a JSON API over the run store (src/view/api.ts). It reads
 * through its own read-only connection, so a `specsci run` writing the same store is never
 * blocked, and it notices that run's commits (api.ts, StoreChanges) to push live updates.
 */
import { existsSync, readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { serve } from "@hono/node-server";
import { serveStatic } from "@hono/node-server/serve-static";
import { Hono } from "hono";
import { envSetting } from "../core/env.js";
import { SpecsciError } from "../core/errors.js";
import { LlmClient } from "../llm/client.js";
import type { Config } from "../llm/config.js";
import { Store } from "../store/db.js";
import { type ApiModule, apiRoutes, StoreChanges } from "./api.js";
import { newSessionToken, securityMiddleware } from "./security.js";

/** Where the built app is: beside the compiled server in dist/, or dist/ when run from src/. */
export const APP_DIR = fileURLToPath(new URL("../../dist/view/app/", import.meta.url));

/** The placeholder in the app's index.html that the server replaces with the session token. */
const TOKEN_PLACEHOLDER = "__SPECSCI_SESSION_TOKEN__";

export interface ViewServerOptions {
  workspaceDir: string;
  config: Config;
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  appDir?: string;
  /** How often the store is checked for another process's commits. */
  pollMs?: number;
  /** More API routes (annotations plug in here; their writes pass the token check). */
  modules?: ApiModule[];
}

export interface ViewServer {
  url: string;
  host: string;
  port: number;
  /** The per-process token state-changing requests carry (X-Specsci-Token). */
  token: string;
  close(): Promise<void>;
}

/** The app's index.html with this process's token in its `<meta name="specsci-token">`. */
function indexHtml(appDir: string, token: string): string {
  const file = `${appDir}/index.html`;
  if (!existsSync(file))
    throw new SpecsciError(`the dashboard's app is not built (${file} is missing)`, {
      hint: "run `npm install` (or `npm run build`) in the specsci directory",
    });
  return readFileSync(file, "utf8").replace(TOKEN_PLACEHOLDER, token);
}

/**
 * Starts the dashboard on the workspace's store: migrates it once through a normal connection
 * (a new specsci may add indexes), then reads through a read-only one.
 */
export async function startViewServer(o: ViewServerOptions): Promise<ViewServer> {
  const host = o.host ?? "127.0.0.1";
  const appDir = o.appDir ?? APP_DIR;
  const token = newSessionToken();
  const page = indexHtml(appDir, token);
  // SPECSCI_STORE_URL wins over specsci.yaml's store:, as for every command (cli/context.ts).
  const url = envSetting("SPECSCI_STORE_URL") ?? o.config.store;
  const location = url ? { url } : {};
  Store.open(o.workspaceDir, location).close();
  const store = Store.openReadOnly(o.workspaceDir, location);
  const client = new LlmClient({ store, config: o.config, cacheMode: "off" });
  const changes = new StoreChanges(store, o.pollMs ?? 500);
  let port = 0;
  const app = new Hono();
  app.use("*", securityMiddleware({ host, port: () => port, token }));
  app.route("/api", apiRoutes({ client, changes, location, modules: o.modules ?? [] }));
  app.use("/assets/*", serveStatic({ root: appDir }));
  // Every other GET is a page of the app: its router reads the path.
  app.get("*", (c) => c.html(page));
  const server = serve({ fetch: app.fetch, hostname: host, port: o.port ?? 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(
        new SpecsciError(`cannot listen on ${host}:${o.port ?? 0}: ${e.message}`, {
          hint:
            e.code === "EADDRINUSE"
              ? "another program uses that port: pick another with --port, or --port 0 for a free one"
              : "check --host: it must be an address of this machine",
        }),
      ),
    );
  }).catch((e) => {
    changes.stop();
    store.close();
    throw e;
  });
  port = (server.address() as AddressInfo).port;
  const shown = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/`,
    host,
    port,
    token,
    close: async () => {
      changes.stop();
      // Live-update streams stay open until the page goes: end them with the server.
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ("closeAllConnections" in server) server.closeAllConnections();
      });
      store.close();
    },
  };
}
