import { z } from "zod";

// C0 controls and DEL; Markdown text may still hold tabs and line breaks.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_BUT_WHITESPACE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** A single-line string without control characters. */
export const line = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !CONTROL.test(s), "must not contain control characters");

/** Multi-line text (Markdown): tabs and line breaks allowed, other control characters refused. */
export const multiline = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !CONTROL_BUT_WHITESPACE.test(s), "must not contain control characters");

/** An absolute http(s) URL. */
export const httpUrl = z
  .string()
  .max(2048, "must be at most 2048 characters")
  .refine((s) => !CONTROL.test(s) && !/\s/.test(s), "must not contain spaces or control characters")
  .refine((s) => /^https?:\/\/[^/?#\s]/i.test(s), "must be an absolute http:// or https:// URL")
  .pipe(z.url({ protocol: /^https?$/, error: "must be an absolute http:// or https:// URL" }));
