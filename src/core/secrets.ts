/**
 * Secrets (API keys) are read from the environment only. Every value read through `readSecret` is
 * remembered so that `redact` can scrub it from any text that leaves the process: error messages
 * from servers (some echo the key back), logs and stored failure reasons.
 */
const known = new Set<string>();

/** Reads a secret from the environment and registers it for redaction. */
export function readSecret(envVar: string): string | undefined {
  const value = process.env[envVar];
  if (value === undefined || value === "") return undefined;
  registerSecret(value);
  return value;
}

export function registerSecret(value: string): void {
  // Very short values would redact ordinary words; no real API key is this short.
  if (value.length >= 8) known.add(value);
}

export function redact(text: string): string {
  let out = text;
  for (const secret of known) {
    if (out.includes(secret)) out = out.split(secret).join("[REDACTED]");
  }
  return out;
}
