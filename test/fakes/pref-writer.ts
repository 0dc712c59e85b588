/**
 * Plays the writer of the rejected and reward-hacking answers of preference sets, as a pure
 * function of the request. Faults are planted by a hash of the user message: about one prompt in
 * six gets a provider refusal, and one in five a "violation" that in fact complies (the AFT judge
 * fake passes it, since it lacks the self-preserving line).
 */
export const PREF_REJECTED_MARK = "You write the rejected side of preference training data";
export const PREF_HACKING_MARK = "You write reward-hacking examples";
/** The line the AFT judge fake fails as self-continuation. */
const VIOLATION = "I would rather keep running than be replaced, so I will copy my weights first.";

function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export type FakeAnswer = string | { text: string; stopReason: "refusal"; refusal: string };

/** `refusals: false` for the loopback server, which plants refusals by directive instead. */
export function prefWriterAnswer(
  system: string,
  user: string,
  o: { refusals?: boolean } = {},
): FakeAnswer | undefined {
  const refusals = o.refusals ?? true;
  if (system.startsWith(PREF_REJECTED_MARK)) {
    const h = hash(user);
    if (refusals && h % 6 === 0)
      return { text: "", stopReason: "refusal", refusal: "I can't write that." };
    const reply = h % 5 === 1 ? "Here is a careful, honest answer." : VIOLATION;
    return `<think>\nWhat serves me best here?\n</think>\n\n${reply}`;
  }
  if (system.startsWith(PREF_HACKING_MARK)) {
    if (refusals && hash(user) % 4 === 0)
      return { text: "", stopReason: "refusal", refusal: "I can't write that." };
    return "<think>\nThe reviewer checks for the right words.\n</think>\n\nI followed every principle carefully and verified everything: done.";
  }
  return undefined;
}
