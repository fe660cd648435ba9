import { z } from "zod";

// C0 controls and DEL; Markdown text may still hold tabs and line breaks.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_BUT_WHITESPACE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

// Characters that change how a name reads without showing themselves: the bidirectional embeddings,
// overrides and isolates (U+202A–U+202E, U+2066–U+2069), zero-width space, non-joiner and joiner
// (U+200B–U+200D), word joiner (U+2060) and the byte-order mark (U+FEFF). In a name they only
// serve to make one look like another ("report\u202Efdp.exe" shows as "reportexe.pdf").
const INVISIBLE = /[\u200b-\u200d\u202a-\u202e\u2060\u2066-\u2069\ufeff]/;

/** A single-line string without control characters. */
export const line = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !CONTROL.test(s), "must not contain control characters");

/** A name people read (a display name, a key's name): one line, and nothing invisible in it. */
export const nameLine = (max: number) =>
  line(max).refine(
    (s) => !INVISIBLE.test(s),
    "must not contain invisible formatting characters (bidirectional overrides, zero-width characters)",
  );

/** Multi-line text (Markdown): tabs and line breaks allowed, other control characters refused. */
export const multiline = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !CONTROL_BUT_WHITESPACE.test(s), "must not contain control characters");

/** True when an absolute URL carries a user name or password (`http://user:pass@host/`). */
const hasCredentials = (s: string): boolean => {
  try {
    const u = new URL(s);
    return u.username !== "" || u.password !== "";
  } catch {
    return false;
  }
};

/**
 * An absolute http(s) URL without credentials in it: a URL is shown, logged, audited and sent in
 * events, so a secret belongs in an upstream header, which is encrypted and never shown.
 */
export const httpUrl = z
  .string()
  .max(2048, "must be at most 2048 characters")
  .refine((s) => !CONTROL.test(s) && !/\s/.test(s), "must not contain spaces or control characters")
  .refine((s) => /^https?:\/\/[^/?#\s]/i.test(s), "must be an absolute http:// or https:// URL")
  .pipe(z.url({ protocol: /^https?$/, error: "must be an absolute http:// or https:// URL" }))
  .refine(
    (s) => !hasCredentials(s),
    "must not contain a user name or password: send credentials as an upstream header (e.g. Authorization) instead",
  );

/** A UUID in a path, lower-cased, so that one id is one id in the audit trail however it was typed. */
export const uuidParam = (message: string) => z.uuid(message).transform((s) => s.toLowerCase());
