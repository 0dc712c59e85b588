import { afterAll, beforeAll, describe, inject } from "vitest";
import {
  NO_POSTGRES,
  type PostgresAddress,
  type PostgresDatabases,
  postgresDatabases,
  startPostgres,
} from "./postgres-process.js";

/** The server itself lives in postgres-process.ts, which the benchmarks import without vitest. */
export {
  NO_POSTGRES,
  type PostgresDatabases,
  type PostgresServer,
  startPostgres,
} from "./postgres-process.js";

declare module "vitest" {
  export interface ProvidedContext {
    /**
     * The test run's PostgreSQL server (test/global-setup.ts), or why it could not start (the
     * tests that need it fail with that); null with SPECSCI_TEST_NO_POSTGRES=1.
     */
    postgres: PostgresAddress | { error: string } | null;
  }
}

/**
 * `describe` for tests that need PostgreSQL: skipped, visibly (vitest lists them as skipped and
 * the name says why), only with SPECSCI_TEST_NO_POSTGRES=1; without a server and without that
 * setting, `startPostgres` fails the tests with what to install.
 */
export const describePostgres = (name: string, body: () => void) =>
  NO_POSTGRES
    ? describe.skip(`${name} (skipped: SPECSCI_TEST_NO_POSTGRES=1)`, body)
    : describe(name, body);

/**
 * Databases for the enclosing describe's tests, each test its own, on the run's one server;
 * dropped after them. Without the run's server (vitest started without this project's global
 * setup) the describe starts a server of its own and stops it after.
 */
export function usePostgres(): () => PostgresDatabases {
  let databases: PostgresDatabases | undefined;
  let stop = () => databases?.dropAll();
  beforeAll(() => {
    const shared = inject("postgres");
    if (shared && "error" in shared) throw new Error(shared.error);
    if (shared) databases = postgresDatabases(shared);
    else {
      const own = startPostgres();
      databases = own;
      stop = () => own.stop();
    }
  });
  afterAll(() => stop());
  return () => {
    if (!databases) throw new Error("usePostgres: the server is found in beforeAll");
    return databases;
  };
}
