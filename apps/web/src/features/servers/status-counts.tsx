import type { FleetOverview } from "@switchboard/shared";
import { STATUS_LABELS } from "../../lib/health-words";
import { useFleetOverview } from "./queries";

/** A chip: its count in the overview, and the list filter it stands for. */
type Chip = {
  key: keyof FleetOverview["counts"];
  label: string;
  /** The URL's filters while it is chosen; the others are cleared. */
  filter: { status: string | null; enabled: string | null };
  tone: string;
};

/**
 * The overview counts enabled servers by health and disabled ones apart, so a health chip lists
 * the enabled servers in that health: the count and the list it opens agree.
 */
const health = (status: "healthy" | "degraded" | "unhealthy" | "auth_required" | "unknown", tone: string) =>
  ({ key: status, label: STATUS_LABELS[status], filter: { status, enabled: "true" }, tone }) satisfies Chip;

const CHIPS: Chip[] = [
  health("healthy", "bg-emerald-500"),
  health("degraded", "bg-amber-500"),
  health("unhealthy", "bg-rose-500"),
  health("auth_required", "bg-sky-500"),
  {
    key: "disabled",
    label: "Disabled",
    filter: { status: null, enabled: "false" },
    tone: "border border-current",
  },
];
/** Shown only when some server waits for its first check. */
const UNKNOWN = health("unknown", "bg-slate-400");

/** Pressed when the list shows what the chip stands for, however it was chosen (a chip, a select, a link). */
const isActive = (chip: Chip, params: URLSearchParams) =>
  chip.filter.status === null
    ? !params.get("status") && params.get("enabled") === "false"
    : params.get("status") === chip.filter.status && params.get("enabled") !== "false";

/**
 * The fleet by health, as buttons that filter the list: the chosen one is pressed, and pressing it
 * again shows every server. The counts follow live events (and a 15 s refresh).
 */
export function StatusCounts({
  params,
  onFilter,
}: {
  params: URLSearchParams;
  onFilter: (filter: { status: string | null; enabled: string | null }) => void;
}) {
  const { data, isError } = useFleetOverview();
  if (isError)
    return (
      <p className="mb-3 text-sm text-slate-600 dark:text-slate-400">Counts by health are unavailable.</p>
    );
  if (!data) return null;
  const chips = data.counts.unknown > 0 ? [...CHIPS.slice(0, 4), UNKNOWN, ...CHIPS.slice(4)] : CHIPS;
  return (
    <fieldset className="mb-3 flex flex-wrap gap-2">
      <legend className="sr-only">Servers by health</legend>
      {chips.map((chip) => {
        const active = isActive(chip, params);
        return (
          <button
            key={chip.key}
            type="button"
            data-count={chip.key}
            aria-pressed={active}
            onClick={() => onFilter(active ? { status: null, enabled: null } : chip.filter)}
            className={`inline-flex items-center gap-2 rounded-full px-3 py-1 text-sm ring-1 transition ${
              active
                ? "bg-indigo-600 text-white ring-indigo-600 dark:bg-indigo-400 dark:text-slate-950 dark:ring-indigo-400"
                : "bg-white/70 ring-slate-300 hover:bg-white dark:bg-slate-800/70 dark:ring-slate-600 dark:hover:bg-slate-700"
            }`}
          >
            <span aria-hidden className={`h-2 w-2 rounded-full ${chip.tone}`} />
            {chip.label} <span className="font-semibold tabular-nums">{data.counts[chip.key]}</span>
          </button>
        );
      })}
    </fieldset>
  );
}
