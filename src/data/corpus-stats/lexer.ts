/**
 * The lexer of corpus statistics: one pass over a document's text that finds its words (hashed
 * by their lower case, for the n-gram sketches) and its name-like entities. What counts as a word,
 * a sentence start and a name is defined in `../corpus-stats.ts`. A table lookup per code unit
 * instead of regular expressions: this loop is most of the time of a corpus pass.
 */
import { fmix32 } from "../hyperloglog.js";

// Character classes of the BMP, and the lower case of each code unit (itself when lower-casing
// changes the length), built once.
const WORD = 1;
const UPPER = 2;
const LOWER = 4;
const DIGIT = 8;
const CLASS = new Uint8Array(65536);
const LOWERCASE = new Uint16Array(65536);
{
  const wordChar = /^[\p{L}\p{N}\p{M}]$/u;
  const upper = /^[\p{Lu}\p{Lt}]$/u;
  const lower = /^\p{Ll}$/u;
  const digit = /^\p{N}$/u;
  for (let c = 0; c < 65536; c++) {
    LOWERCASE[c] = c;
    if (c >= 0xd800 && c <= 0xdfff) continue;
    const s = String.fromCharCode(c);
    if (!wordChar.test(s)) continue;
    CLASS[c] = WORD | (upper.test(s) ? UPPER : lower.test(s) ? LOWER : digit.test(s) ? DIGIT : 0);
    const l = s.toLowerCase();
    if (l.length === 1) LOWERCASE[c] = l.charCodeAt(0);
  }
}

/** Words before a `.` that does not end a sentence. */
const ABBREVIATIONS = new Set(
  "Mr Mrs Ms Mx Dr Prof St Sr Jr Mt Ft Gen Col Lt Sgt Capt Rev Hon Gov Sen Rep Inc Ltd Co Corp vs etc No Vol Fig".split(
    " ",
  ),
);

/** Capitalized words that are not names: function words, weekdays, months. */
const NOT_NAMES = new Set(
  (
    "The A An And But Or Nor For So Yet Of In On At To By With From As Into Onto Over Under About " +
    "Is Are Was Were Be It Its This That These Those We You He She They I My Our Your His Her " +
    "Their If When While After Before Then There Here What Which Who Whom Whose How Why Where Not " +
    "No Yes All Each Every Some Any Both Most Many More Such Also However Although Because " +
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May " +
    "June July August September October November December"
  ).split(" "),
);

/** What the lexer reports of a document's text, in order. */
export interface WordSink {
  /** A word, as the hash of its lower case (FNV-1a, then `fmix32`). */
  word(hash: number): void;
  /** A name-like entity of one or two words. */
  entity(name: string): void;
}

export interface ScannedText {
  /** Unicode code points. */
  characters: number;
  words: number;
}

/** Lexes one document's text, reporting its words and entities to `sink`. */
export function scanText(text: string, sink: WordSink): ScannedText {
  return new TextScan(text, sink).run();
}

/** The lexer's state within one document. */
class TextScan {
  private sentenceStart = true;
  private lineStart = true;
  private heading = false;
  private lowSurrogates = 0;
  private words = 0;
  // The word last read: [wordStart, wordEnd), its hash and whether it is shaped like a name.
  private wordStart = -1;
  private wordEnd = -1;
  private hash = 0;
  private nameShaped = false;
  // The run of name-like words being read: [runStart, runEnd), runLength words.
  private runStart = -1;
  private runEnd = -1;
  private runLength = 0;

  constructor(
    private readonly text: string,
    private readonly sink: WordSink,
  ) {}

  run(): ScannedText {
    const { text } = this;
    const n = text.length;
    let i = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (((CLASS[c] as number) & WORD) === 0) {
        this.separator(c, i);
        i++;
        continue;
      }
      const end = this.readWord(i);
      this.words++;
      this.sink.word(fmix32(this.hash));
      if (this.nameShaped && !this.heading && !this.sentenceStart) this.nameWord(i, end);
      else this.endRun();
      this.sentenceStart = false;
      this.lineStart = false;
      i = end;
    }
    this.endRun();
    return { characters: n - this.lowSurrogates, words: this.words };
  }

  /** A character between words: it may end a sentence, a line or a heading's start. */
  private separator(c: number, i: number): void {
    if (c === 10) {
      this.sentenceStart = true;
      this.lineStart = true;
      this.heading = false;
    } else if (c === 46) {
      if (!this.abbreviated(i)) this.sentenceStart = true;
    } else if (c === 33 || c === 63 || c === 58) this.sentenceStart = true;
    else if (c === 35) {
      if (this.lineStart) this.heading = true;
    } else if (c >= 0xdc00 && c <= 0xdfff) this.lowSurrogates++;
  }

  /** Whether the `.` at `i` follows a single letter or a title (and so ends no sentence). */
  private abbreviated(i: number): boolean {
    const { wordStart } = this;
    return (
      this.wordEnd === i &&
      (i - wordStart === 1 ||
        (i - wordStart <= 4 && ABBREVIATIONS.has(this.text.slice(wordStart, i))))
    );
  }

  /**
   * Reads the word starting at `start` (joined across an inner apostrophe), hashing its lower case
   * (FNV-1a) and noting its shape; returns where it ends.
   */
  private readWord(start: number): number {
    const { text } = this;
    const n = text.length;
    const first = text.charCodeAt(start);
    let h = Math.imul(0x811c9dc5 ^ (LOWERCASE[first] as number), 0x01000193);
    let restLower = false;
    let restDigit = false;
    let i = start + 1;
    while (i < n) {
      const d = text.charCodeAt(i);
      const kd = CLASS[d] as number;
      if (kd & WORD) {
        h = Math.imul(h ^ (LOWERCASE[d] as number), 0x01000193);
        if (kd & LOWER) restLower = true;
        else if (kd & DIGIT) restDigit = true;
        i++;
      } else if (
        (d === 39 || d === 0x2019) &&
        i + 1 < n &&
        ((CLASS[text.charCodeAt(i + 1)] as number) & WORD) !== 0
      ) {
        h = Math.imul(h ^ 39, 0x01000193);
        i++;
      } else break;
    }
    this.wordStart = start;
    this.wordEnd = i;
    this.hash = h;
    this.nameShaped = ((CLASS[first] as number) & UPPER) !== 0 && restLower && !restDigit;
    return i;
  }

  /** A name-shaped word inside a sentence: it starts or extends a run of names. */
  private nameWord(start: number, end: number): void {
    const w = this.text.slice(start, end);
    if (NOT_NAMES.has(w) || ABBREVIATIONS.has(w)) this.endRun();
    else if (
      this.runLength > 0 &&
      start === this.runEnd + 1 &&
      this.text.charCodeAt(this.runEnd) === 32
    ) {
      this.runLength++;
      this.runEnd = end;
    } else {
      this.endRun();
      this.runStart = start;
      this.runEnd = end;
      this.runLength = 1;
    }
  }

  /** Ends the run of names: one or two words are an entity, longer runs are taken for titles. */
  private endRun(): void {
    if (this.runLength === 1 || this.runLength === 2)
      this.sink.entity(this.text.slice(this.runStart, this.runEnd));
    this.runLength = 0;
  }
}
