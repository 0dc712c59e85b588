import { registerSecret } from "../core/secrets.js";

/**
 * A store URL as it may be shown (errors, logs): its password replaced, whatever its length.
 * The password also goes to secrets.ts, so a server message that echoes it is scrubbed too.
 * Patterns rather than `URL`: a libpq URL may have no host (`postgresql://u:p@/db?host=/run`),
 * which WHATWG URLs cannot give a password, and a libpq "key=value" string is no URL at all.
 */
export function redactUrl(url: string): string {
  return url
    .replace(
      /^([a-z][a-z0-9+.-]*:\/\/[^:/@?#]*:)([^@/?#]*)@/i,
      (_, user: string, password: string) => {
        registerSecret(safeDecode(password));
        return `${user}***@`;
      },
    )
    .replace(/([?&]password=)([^&#]*)/gi, (_, key: string, password: string) => {
      registerSecret(safeDecode(password));
      return `${key}***`;
    })
    .replace(/(password\s*=\s*)('[^']*'|[^\s&]+)/gi, "$1***");
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
