import type { Transport } from "@switchboard/shared";

const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/** "3 minutes ago", "in 20 seconds". */
export function timeAgo(iso: string | null, now = Date.now()): string {
  if (!iso) return "never";
  const s = Math.round((Date.parse(iso) - now) / 1000);
  const abs = Math.abs(s);
  if (abs < 60) return rtf.format(s, "second");
  if (abs < 3600) return rtf.format(Math.round(s / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(s / 3600), "hour");
  return rtf.format(Math.round(s / 86400), "day");
}

export const dateTime = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : "—");

/** How each transport is named on screen; a new transport fails to compile until it has a name. */
export const TRANSPORT_LABELS: Record<Transport, string> = {
  "streamable-http": "Streamable HTTP",
  sse: "SSE",
};
