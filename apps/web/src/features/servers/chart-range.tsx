import { HEALTH_RANGES, type HealthRange } from "@switchboard/shared";
import { useId } from "react";
import { useLocation, useSearch } from "wouter";
import { RANGE_SHORT } from "./health-series";

export const DEFAULT_RANGE: HealthRange = "24h";

const isRange = (v: string | null): v is HealthRange => HEALTH_RANGES.some((r) => r === v);

/**
 * The time range the server page's charts show, kept in the URL as `?range=` so that a view can
 * be shared and survives a reload. A change rewrites the current history entry: Back leaves the page.
 */
export function useChartRange(): [HealthRange, (range: HealthRange) => void] {
  const search = useSearch();
  const [location, navigate] = useLocation();
  const raw = new URLSearchParams(search).get("range");
  const range = isRange(raw) ? raw : DEFAULT_RANGE;
  const set = (next: HealthRange) => {
    const params = new URLSearchParams(search);
    if (next === DEFAULT_RANGE) params.delete("range");
    else params.set("range", next);
    const qs = params.toString();
    navigate(`${location}${qs ? `?${qs}` : ""}`, { replace: true });
  };
  return [range, set];
}

/** A segmented control: radio buttons, so arrow keys move between ranges and the choice is announced. */
export function RangePicker({
  value,
  onChange,
  label,
}: {
  value: HealthRange;
  onChange: (range: HealthRange) => void;
  label: string;
}) {
  const name = useId();
  return (
    <fieldset className="inline-flex rounded-lg border border-slate-300 p-0.5 text-sm dark:border-slate-600">
      <legend className="sr-only">{label}</legend>
      {HEALTH_RANGES.map((r) => (
        <label key={r} className="relative cursor-pointer">
          <input
            type="radio"
            name={name}
            value={r}
            checked={value === r}
            onChange={() => onChange(r)}
            className="peer sr-only"
          />
          <span className="block rounded-md px-2.5 py-1 font-medium text-slate-700 peer-checked:bg-indigo-600 peer-checked:text-white peer-focus-visible:ring-2 peer-focus-visible:ring-indigo-500 dark:text-slate-200 dark:peer-checked:bg-indigo-400 dark:peer-checked:text-slate-950">
            {RANGE_SHORT[r]}
          </span>
        </label>
      ))}
    </fieldset>
  );
}
