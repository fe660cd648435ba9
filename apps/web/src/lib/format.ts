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

/**
 * "99.9%": rounded down, so that "100%" means no check failed, and "—" when no check ran. One
 * failed check in a thousand shows as 99.9%, not as a perfect record.
 */
export function uptimePercent(share: number | null): string {
  if (share === null) return "—";
  if (share >= 1) return "100%";
  // The epsilon undoes binary fractions (0.57 * 1000 = 569.999…) before rounding down.
  return `${(Math.floor(share * 1000 + 1e-9) / 10).toFixed(1)}%`;
}
