import type { HealthRange, HealthSeries, ServerUsage } from "@switchboard/shared";
import { useQuery } from "@tanstack/react-query";
import { api } from "../../lib/api";
import { serverKeys } from "./queries";
import { usageWindow } from "./usage-series";

export const seriesKeys = {
  /**
   * Under the server's health key on purpose: whatever refreshes its history (a `health.changed`
   * event, a check run from the page) refreshes the series too, by prefix.
   */
  health: (id: string, range: HealthRange) => [...serverKeys.health(id), "series", range] as const,
  usage: (id: string, range: HealthRange) => [...serverKeys.usage(id), "range", range] as const,
};

/**
 * A server's health, bucketed over a range. Live events refresh it as checks land; it is read again
 * every minute all the same, since the window slides, and every 15 s while live events are down.
 */
export const useHealthSeries = (id: string, range: HealthRange, live: boolean) =>
  useQuery({
    queryKey: seriesKeys.health(id, range),
    queryFn: () => api<HealthSeries>(`/mcp/servers/${id}/health/series?range=${range}`),
    refetchInterval: live ? 60_000 : 15_000,
  });

/** Gateway calls and errors over a range ending now, in steps that give the chart 60 to 300 buckets. */
export const useUsageSeries = (id: string, range: HealthRange) =>
  useQuery({
    queryKey: seriesKeys.usage(id, range),
    queryFn: () => {
      const { from, to, step } = usageWindow(range);
      const qs = new URLSearchParams({ from, to, step: String(step) });
      return api<ServerUsage>(`/mcp/servers/${id}/usage?${qs}`);
    },
    // Usage is counted per minute and written within seconds: a minute between reads is enough.
    refetchInterval: 60_000,
  });
