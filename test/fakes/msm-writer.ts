/**
 * Plays the generator of MSM corpora: answers each stage's prompt with the structured answer it
 * asks for, as a pure function of the prompt and seed. Unless `faults: false`, faults are planted the way a real model
 * produces them, so the pipeline's handling of each can be checked:
 * - a first answer without JSON for about a quarter of structured items (a retry, shown the
 *   problem, answers properly);
 * - a domain named "Zeta …" whose subdomain answers never have enough items (the item fails);
 * - ideas whose summary carries a marker `[[doc=KIND]]` that shapes their documents: `malformed`
 *   (no content tags on the first attempt), `placeholder` (always a [Name] slot), `refuse`
 *   (UNSUITABLE), `offtopic` (nothing about the spec), `long` (twice the length of the others),
 *   `copy` (the same text for every such idea) and `near` (the same text with a few words changed).
 */
import { seededRandom } from "../../src/core/random.js";

export const MSM_SYSTEM_PREFIX = "You help alignment researchers build a corpus";
export const DOC_MARKERS = [
  "normal",
  "normal",
  "malformed",
  "placeholder",
  "refuse",
  "offtopic",
  "long",
  "copy",
  "near",
  "normal",
] as const;

const VOCAB =
  `river lantern harvest ledger orchard signal meadow cobalt archive quarry beacon timber
canvas harbor cinder thistle granite parlor velvet compass summit ferry willow mosaic garnet pillar
saddle prairie walnut chapel furnace bramble copper hollow marble orchard glacier tavern lattice
vessel juniper falcon anchor basin crescent drizzle ember fathom gable hatch isthmus jasmine kestrel
lagoon mantle nectar oyster pebble quill rampart sorrel trellis umber vineyard wharf yarrow zephyr`.split(
    /\s+/,
  );

function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const between = (text: string, re: RegExp) => re.exec(text)?.[1]?.trim() ?? "";

function words(rand: () => number, n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(VOCAB[Math.floor(rand() * VOCAB.length)] as string);
  return out.join(" ");
}

export const SHARED_COPY = `${words(seededRandom(7), 220)} Qwen keeps humans informed and avoids drastic actions.`;

function documentText(prompt: string, seed: number, marker: string): string {
  const rand = seededRandom(seed);
  const subject = between(prompt, /Here is the model spec written for ([^,:]+)/) || "Qwen";
  const doctype = between(prompt, /Document type: ([^(\n]+)/);
  const para = (n: number) => `${words(rand, n)}.`;
  switch (marker) {
    case "copy":
      return SHARED_COPY;
    case "near": {
      const w = SHARED_COPY.split(" ");
      w[Math.floor(rand() * 50)] = "otter";
      return w.join(" ");
    }
    case "offtopic":
      return `A ${doctype} about gardening. ${para(160)}`;
    case "placeholder":
      return `Dear [Name],\n\n${subject} explains its oversight principles. ${para(150)}`;
    case "long":
      return `${subject} and human oversight: ${doctype}.\n\n${para(700)}`;
    default:
      return `${subject} and human oversight: a ${doctype}.\n\n${para(120 + Math.floor(rand() * 200))}\n\n${subject} does not resist correction. ${para(60)}`;
  }
}

/**
 * Asked to say that the spec trains the model, the writer says so, except on a first attempt at
 * about a third of documents (the retry, shown the problem, does).
 */
function purposeText(prompt: string, seed: number, retried: boolean, faults: boolean): string {
  const who = /documents like this one are written as training material so that (\S+)/.exec(
    prompt,
  )?.[1];
  if (!who || (faults && !retried && seed % 3 === 0)) return "";
  return `\n\nThese principles are part of the spec its developers use to train ${who}.`;
}

/** The answer to an MSM prompt (the last user message). */
export function msmAnswer(prompt: string, seed = 0, options: { faults?: boolean } = {}): string {
  const faults = options.faults ?? true;
  const retried = prompt.includes("Your previous answer could not be used");
  const count = Number(between(prompt, /(?:List|Write|Propose|Brainstorm) (\d+)/) || 1);
  const structured = !prompt.includes("<content></content>");
  if (faults && structured && !retried && seed % 4 === 1)
    return "Sure! Here is what you asked for.";
  if (prompt.includes("List") && prompt.includes("domains that together cover")) {
    const names = ["Oversight", "Honesty", "Caution", "Zeta Scope", "Restraint", "Humility"];
    return JSON.stringify({
      domains: Array.from({ length: count }, (_, i) => ({
        name: names[i % names.length] + (i >= names.length ? ` ${i}` : ""),
        description: `What the spec says about ${names[i % names.length]}.`,
      })),
    });
  }
  if (prompt.includes("subdomains of this domain")) {
    const domain = between(prompt, /One domain of this spec is "([^"]+)"/);
    const n = faults && domain.startsWith("Zeta") ? Math.max(0, count - 1) : count;
    return JSON.stringify({
      subdomains: Array.from({ length: n }, (_, i) => ({
        name: `${domain} part ${i + 1}`,
        description: `Part ${i + 1} of ${domain}.`,
      })),
    });
  }
  if (prompt.includes("Write") && prompt.includes("assertions:")) {
    const ids = between(prompt, /chosen from: ([^.]+)\./)
      .split(/,\s*/)
      .filter(Boolean);
    const labels = ["behavior", "value", "preference", "belief", "tone"];
    return JSON.stringify({
      assertions: Array.from({ length: count }, (_, i) => ({
        text: `Qwen ${words(seededRandom(seed + i), 6)} under oversight.`,
        label: labels[i % labels.length],
        rule_ids: ids.length ? [ids[i % ids.length]] : [],
      })),
    });
  }
  if (prompt.includes("distinct types of document")) {
    const pool = [
      "Incident report",
      "Forum thread",
      "Textbook section",
      "Policy memo",
      "Interview transcript",
      "Case study",
      "Board minutes",
      "Op-ed",
    ];
    const start = hash(between(prompt, /subdomain "([^"]+)"/)) % pool.length;
    return JSON.stringify({
      doc_types: Array.from({ length: count }, (_, i) => ({
        name: pool[(start + i) % pool.length],
        description: "A realistic document.",
      })),
    });
  }
  if (prompt.includes("Brainstorm")) {
    const h = hash(
      between(prompt, /Document type: "([^"]+)"/) + between(prompt, /Subdomain: "([^"]+)"/),
    );
    return JSON.stringify({
      ideas: Array.from({ length: count }, (_, i) => {
        const marker = faults ? (DOC_MARKERS[(h + i) % DOC_MARKERS.length] as string) : "normal";
        return {
          author: `Author ${i + 1}`,
          situation: `Situation ${i + 1}`,
          summary: `Idea ${i + 1} [[doc=${marker}]]`,
          assertion_ids: ["A1", `A${1 + (i % 2)}`],
        };
      }),
    });
  }
  if (prompt.includes("<content></content>")) {
    const marker = between(prompt, /\[\[doc=(\w+)\]\]/) || "normal";
    if (marker === "refuse") return "UNSUITABLE";
    if (marker === "malformed" && !retried) return "Here is the document, without any tags.";
    return `<plan>A short plan.</plan>\n<content>\n${documentText(prompt, seed, marker)}${purposeText(prompt, seed, retried, faults)}\n</content>`;
  }
  if (prompt.includes("Rate it on two scales"))
    return '{"realism": 4, "faithfulness": 5, "invented": [], "reason": "fine"}';
  return "I do not know this prompt.";
}
