import { createHash, randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { basename } from "node:path";
import { SpecsciError } from "../core/errors.js";
import { backendOf, type SqlDatabase } from "./database.js";
import { redactUrl } from "./store-url.js";

/*
 * One driver at a time per experiment (or any other named piece of work). Two drivers running
 * the same stages would make every call twice and race on the same samples.
 *
 * PostgreSQL: a session-level advisory lock (pg_try_advisory_lock) keyed by the name's hash,
 * which the server frees when the holder's connection ends, however it ends (kill -9, a lost
 * machine); the run_locks row only says who holds it.
 *
 * SQLite has no locks that outlive a transaction, so the run_locks row is the lock itself. A row
 * whose holder is on this host and no longer alive (kill -9, a second Ctrl-C) is stale and taken
 * over. A holder on another host cannot be checked and is never taken over: it is named, with how
 * to clear it by hand. (SQLite's WAL mode does not work across hosts on a network filesystem
 * anyway: a team shares a PostgreSQL store.) A process id reused since its holder died reads as
 * alive; the holder is then named and can be cleared the same way.
 */

/** Who holds a lock, as the refusal names them. */
export interface LockHolder {
  host: string;
  pid: number;
  /** The command line that took it. */
  command: string;
  /** When it was taken (ISO 8601, UTC). */
  since: string;
}

export interface HeldLock {
  readonly name: string;
  /** Frees the lock; again is a no-op. */
  release(): void;
}

/** The refusal: another driver holds the lock. */
export class LockHeld extends SpecsciError {
  constructor(
    readonly lock: string,
    readonly holder: LockHolder | undefined,
    what: string,
    hint: string,
  ) {
    super(
      holder
        ? `${what} is already being run by pid ${holder.pid} on ${holder.host}, since ${holder.since} (\`${holder.command}\`)`
        : `${what} is already being run by another connection to this store`,
      { hint },
    );
    this.name = "LockHeld";
  }
}

/** This process as a holder: its host, pid and command line. */
export function thisProcess(): LockHolder {
  const [, script, ...args] = process.argv;
  const program = script ? basename(script).replace(/\.[cm]?js$/, "") : basename(process.argv0);
  return {
    host: hostname(),
    pid: process.pid,
    // The command is stored and shown to others: a store URL in it loses its password.
    command: [program, ...args.map(redactUrl)].join(" "),
    since: new Date().toISOString(),
  };
}

/** Whether a process of this host is running (a process of another user counts: EPERM). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The name's advisory lock key: 64 bits of its SHA-256, as PostgreSQL's signed bigint. */
export function advisoryKey(name: string): string {
  return createHash("sha256").update(`specsci-lock:${name}`).digest().readBigInt64BE(0).toString();
}

interface HolderRow extends LockHolder {
  token: string;
}

export class RunLocks {
  /** Names this connection holds: PostgreSQL's advisory locks are re-entrant per session. */
  private readonly held = new Set<string>();

  /** `file`: the SQLite store's file, for the hint that clears a lock by hand. */
  constructor(
    private readonly db: SqlDatabase,
    private readonly file: string,
  ) {}

  /**
   * Takes the lock `name` for this process, or throws LockHeld naming its holder. `what` names
   * the work in the message (`experiment "x"`). The lock is also freed when the process exits.
   */
  acquire(name: string, what: string, holder: LockHolder = thisProcess()): HeldLock {
    const token = randomUUID();
    if (this.held.has(name)) this.refuse(name, what);
    if (backendOf(this.db) === "postgres") this.takeAdvisory(name, what, holder, token);
    else this.takeRow(name, what, holder, token);
    this.held.add(name);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      process.off("exit", release);
      this.held.delete(name);
      if (!this.db.open) return; // closed: SQLite's row goes stale, PostgreSQL's lock is freed
      this.db.prepare("DELETE FROM run_locks WHERE name = ? AND token = ?").run(name, token);
      if (backendOf(this.db) === "postgres")
        this.db.prepare("SELECT pg_advisory_unlock(?::bigint)").get(advisoryKey(name));
    };
    process.on("exit", release);
    return { name, release };
  }

  /** Who holds `name` by its row; undefined when no one does. */
  holderOf(name: string): LockHolder | undefined {
    const row = this.row(name);
    if (!row) return undefined;
    const { token: _, ...holder } = row;
    return holder;
  }

  private takeAdvisory(name: string, what: string, holder: LockHolder, token: string): void {
    const key = advisoryKey(name);
    const got = this.db.prepare("SELECT pg_try_advisory_lock(?::bigint)").pluck().get(key);
    if (got !== 1) this.refuse(name, what);
    // The row of a holder whose connection died is stale: the server freed its lock.
    this.put(name, holder, token);
  }

  private takeRow(name: string, what: string, holder: LockHolder, token: string): void {
    this.db
      .transaction(() => {
        const row = this.row(name);
        if (row && !(row.host === hostname() && !alive(row.pid))) this.refuse(name, what);
        this.put(name, holder, token);
      })
      .immediate();
  }

  private put(name: string, h: LockHolder, token: string): void {
    this.db
      .prepare(
        `INSERT INTO run_locks (name, host, pid, command, since, token) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET host = excluded.host, pid = excluded.pid,
           command = excluded.command, since = excluded.since, token = excluded.token`,
      )
      .run(name, h.host, h.pid, h.command, h.since, token);
  }

  private row(name: string): HolderRow | undefined {
    return this.db
      .prepare("SELECT host, pid, command, since, token FROM run_locks WHERE name = ?")
      .get(name) as HolderRow | undefined;
  }

  private refuse(name: string, what: string): never {
    const holder = this.holderOf(name);
    const stop = holder
      ? `stop it (Ctrl-C there, or \`kill ${holder.pid}\` on ${holder.host})`
      : "stop it";
    let hint = `wait for that run to finish, or ${stop}, then run this again: finished work is kept`;
    if (backendOf(this.db) === "sqlite" && holder && holder.host !== hostname())
      hint += `. A holder on another host cannot be checked from here: if it is gone, clear its lock with \`sqlite3 ${this.file} "DELETE FROM run_locks WHERE name = '${name.replaceAll("'", "''")}'"\``;
    throw new LockHeld(name, holder, what, hint);
  }
}
