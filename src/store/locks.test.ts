import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTempDirs, ROOT, tempDir } from "../../test/helpers.js";
import { describePostgres, usePostgres } from "../../test/postgres-server.js";
import { Store } from "./db.js";
import { LockHeld } from "./locks.js";

afterAll(cleanupTempDirs);

const NAME = "experiment-x";
const WHAT = 'experiment "x"';

/** A driver in another process that takes the lock, says so, and waits to be killed. */
async function holderProcess(dir: string, url: string | undefined) {
  const script = join(tempDir(), "holder.mjs");
  writeFileSync(
    script,
    `import { Store } from ${JSON.stringify(join(ROOT, "dist/store/index.js"))};
     const [dir, url] = process.argv.slice(2);
     const store = Store.open(dir, url ? { url } : {});
     store.locks.acquire(${JSON.stringify(NAME)}, ${JSON.stringify(WHAT)});
     process.stdout.write("held\\n");
     setInterval(() => {}, 1000);`,
  );
  const child = spawn(process.execPath, [script, dir, ...(url ? [url] : [])], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const closed = new Promise((r) => child.once("close", r));
  await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
  return { child, closed };
}

/** The same tests on each backend: `open` gives a new connection to one store. */
function lockTests(open: () => () => Store, url: () => string | undefined) {
  it("refuses a second driver, naming the holder, and lets it in once the lock is released", () => {
    const connect = open();
    const [first, second] = [connect(), connect()];
    const held = first.locks.acquire(NAME, WHAT);
    let refusal: unknown;
    try {
      second.locks.acquire(NAME, WHAT);
    } catch (e) {
      refusal = e;
    }
    expect(refusal).toBeInstanceOf(LockHeld);
    const message = (refusal as LockHeld).message;
    expect(message).toContain(`experiment "x" is already being run by pid ${process.pid}`);
    expect(message).toContain(`on ${hostname()}, since 20`);
    expect((refusal as LockHeld).hint).toMatch(/wait for that run to finish, or stop it/);
    // The holder's own connection cannot take it twice either.
    expect(() => first.locks.acquire(NAME, WHAT)).toThrow(LockHeld);
    held.release();
    held.release();
    expect(first.locks.holderOf(NAME)).toBeUndefined();
    const again = second.locks.acquire(NAME, WHAT);
    expect(() => first.locks.acquire(NAME, WHAT)).toThrow(LockHeld);
    again.release();
    first.locks.acquire("experiment-other", 'experiment "other"').release();
    first.close();
    second.close();
  });

  it("frees the lock of a driver killed with kill -9", async () => {
    const connect = open();
    const store = connect();
    const { child, closed } = await holderProcess(store.dir, url());
    expect(() => store.locks.acquire(NAME, WHAT)).toThrow(
      new RegExp(`already being run by pid ${child.pid} on .*\\(\`holder ${store.dir}`),
    );
    child.kill("SIGKILL");
    await closed;
    // PostgreSQL frees it once the server sees the connection close: at once on a socket, but
    // asynchronously to this test.
    let lock: ReturnType<Store["locks"]["acquire"]> | undefined;
    for (let tries = 0; !lock; tries++) {
      try {
        lock = store.locks.acquire(NAME, WHAT);
      } catch (e) {
        if (!(e instanceof LockHeld) || tries > 100) throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    expect(store.locks.holderOf(NAME)).toMatchObject({ pid: process.pid, host: hostname() });
    lock.release();
    store.close();
  });
}

describe("experiment locks on SQLite", () => {
  const open = () => {
    const dir = join(tempDir(), "ws");
    return () => Store.open(dir);
  };
  lockTests(open, () => undefined);

  it("never takes over a holder on another host, and says how to clear its lock", () => {
    const connect = open();
    const [first, second] = [connect(), connect()];
    first.locks.acquire(NAME, WHAT, {
      host: "node-7.cluster",
      pid: process.pid,
      command: "specsci run x.yaml",
      since: "2026-12-07T17:00:00.000Z",
    });
    let refusal: LockHeld | undefined;
    try {
      second.locks.acquire(NAME, WHAT);
    } catch (e) {
      refusal = e as LockHeld;
    }
    expect(refusal?.message).toBe(
      'experiment "x" is already being run by pid ' +
        `${process.pid} on node-7.cluster, since 2026-12-07T17:00:00.000Z (\`specsci run x.yaml\`)`,
    );
    expect(refusal?.hint).toContain(
      `if it is gone, clear its lock with \`sqlite3 ${second.file} "DELETE FROM run_locks WHERE name = 'experiment-x'"\``,
    );
    first.close();
    second.close();
  });
});

describePostgres("experiment locks on PostgreSQL", () => {
  const server = usePostgres();
  let url: string | undefined;
  const open = () => {
    const dir = join(tempDir(), "ws");
    const db = server().database();
    url = db;
    return () => Store.open(dir, { url: db });
  };
  lockTests(open, () => url);
});
