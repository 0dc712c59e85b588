/**
 * Copies Inspect's log schema of an inspect_ai commit over schemas/inspect-openapi.json and
 * records the commit (schemas/inspect-openapi.source.json). Then update INSPECT_SCHEMA_COMMIT in
 * src/evals/inspect-schema.ts and run test/evals/inspect-schema-refresh.test.ts and the Inspect
 * export tests: they validate exports against the refreshed file.
 *
 *   npx tsx scripts/refresh-inspect-schema.ts COMMIT [URL]
 */
import { refreshInspectSchema } from "../src/evals/inspect-schema.js";

const [commit, url] = process.argv.slice(2);
if (!commit || !/^[0-9a-f]{40}$/.test(commit)) {
  console.error(
    "usage: refresh-inspect-schema.ts COMMIT [URL] (COMMIT: a full inspect_ai commit hash)",
  );
  process.exit(2);
}
const { file } = await refreshInspectSchema(url ? { commit, url } : { commit });
console.log(`wrote ${file} from inspect_ai ${commit}`);
