import { afterAll, beforeAll, describe } from "vitest";
import { NO_POSTGRES, type PostgresServer, startPostgres } from "./postgres-process.js";

/** The server itself lives in postgres-process.ts, which the benchmarks import without vitest. */
export { NO_POSTGRES, type PostgresServer, startPostgres } from "./postgres-process.js";

/**
 * `describe` for tests that need PostgreSQL: skipped, visibly (vitest lists them as skipped and
 * the name says why), only with SPECSCI_TEST_NO_POSTGRES=1; without a server and without that
 * setting, `startPostgres` fails the tests with what to install.
 */
export const describePostgres = (name: string, body: () => void) =>
  NO_POSTGRES
    ? describe.skip(`${name} (skipped: SPECSCI_TEST_NO_POSTGRES=1)`, body)
    : describe(name, body);

/** A server for the enclosing describe's tests: started before them, stopped after. */
export function usePostgres(): () => PostgresServer {
  let server: PostgresServer | undefined;
  beforeAll(() => {
    server = startPostgres();
  });
  afterAll(() => server?.stop());
  return () => {
    if (!server) throw new Error("usePostgres: the server starts in beforeAll");
    return server;
  };
}
