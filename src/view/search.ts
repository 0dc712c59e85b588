/**
 * The sample table's answer search (`q=`), one meaning on both backends: every term must occur
 * in the sample's answer or native reasoning, in any order; a term is a word, a "quoted phrase"
 * (its words next to each other, in order) or a prefix* (a word ending in `*`: words that start
 * so). Nothing else is syntax: other punctuation separates words, an unclosed quote runs to the
 * end. SQLite reads the terms as an FTS5 query of quoted strings (migration 7's index), PostgreSQL
 * as a tsquery over migration 7's `answer_search` (GIN), built from the user's words only as
 * quoted lexemes or function arguments, so no input is ever SQL or query syntax. A query of no
 * words matches nothing. The small grammar is hand-written: the backends' own query languages
 * differ (FTS5's, to_tsquery's, websearch_to_tsquery's), and each is mapped from this one.
 */
import { SpecsciError } from "../core/errors.js";
import { dialect, type SqlDatabase } from "../store/database.js";

/** A word or phrase of the query; `prefix`: its last word matches the words it starts. */
export interface SearchTerm {
  text: string;
  prefix: boolean;
}

/** More terms than a person types: a longer query is refused rather than planned. */
export const SEARCH_TERMS_MAX = 32;

/**
 * Word characters as FTS5's unicode61 tokenizer has them (its default categories L*, N*, Co);
 * PostgreSQL's parser also splits at every other character, so a word is the same in both.
 */
const WORD = /[\p{L}\p{N}\p{Co}]+/gu;

const wordsOf = (text: string) => text.match(WORD) ?? [];

/**
 * The terms of a query as typed; terms without a word are dropped. A NUL is a space: FTS5 ends a
 * string there, and libpq passes parameters as C strings.
 */
export function parseSearch(q: string): SearchTerm[] {
  const terms: SearchTerm[] = [];
  for (const m of q.replaceAll("\u0000", " ").matchAll(/"([^"]*)"?|[^\s"]+/g)) {
    const quoted = m[1];
    const term =
      quoted !== undefined
        ? { text: quoted, prefix: false }
        : { text: m[0].replace(/\*+$/, ""), prefix: m[0].endsWith("*") };
    if (wordsOf(term.text).length) terms.push(term);
  }
  if (terms.length > SEARCH_TERMS_MAX)
    throw new SpecsciError(
      `bad sample query: q has ${terms.length} words and phrases, more than ${SEARCH_TERMS_MAX}`,
      { hint: 'search for fewer words, or put the words that belong together in a "phrase"' },
    );
  return terms;
}

/** The FTS5 query: each term a quoted string (its quotes doubled), `*` after a prefix. */
export const fts5Query = (terms: SearchTerm[]) =>
  terms.map((t) => `"${t.text.replaceAll('"', '""')}"${t.prefix ? "*" : ""}`).join(" ");

/**
 * A term as tsquery text from its words (letters and digits only, each a quoted lexeme, so no
 * character of the user's is read as an operator), in order (`<->`), the last one `:*` when a
 * prefix. 'simple' lowercases them as it did the answers.
 */
export const tsqueryOf = (t: SearchTerm) =>
  wordsOf(t.text)
    .map((w, i, all) => `'${w}'${t.prefix && i === all.length - 1 ? ":*" : ""}`)
    .join(" <-> ");

/**
 * The condition on `eval_samples s` that its answer matches every term, and its parameters.
 * PostgreSQL's parser keeps some words whole (an email address, a host, 3.5) where unicode61
 * splits them: a term matches there as PostgreSQL reads it (phraseto_tsquery, the same parser as
 * the answers') or as its words, so what SQLite finds, PostgreSQL finds too.
 */
export function searchCondition(
  db: SqlDatabase,
  terms: SearchTerm[],
): { sql: string; params: unknown[] } {
  if (!terms.length) return { sql: "FALSE", params: [] };
  return dialect(db, {
    sqlite: {
      sql: "(s.run_id, s.sample_id, s.epoch) IN (SELECT run_id, sample_id, epoch FROM eval_sample_text WHERE eval_sample_text MATCH ?)",
      params: [fts5Query(terms)],
    },
    postgres: {
      sql: `s.answer_search @@ (${terms
        .map((t) =>
          t.prefix
            ? "to_tsquery('simple', ?)"
            : "(phraseto_tsquery('simple', ?) || to_tsquery('simple', ?))",
        )
        .join(" && ")})`,
      params: terms.flatMap((t) => (t.prefix ? [tsqueryOf(t)] : [t.text, tsqueryOf(t)])),
    },
  });
}
