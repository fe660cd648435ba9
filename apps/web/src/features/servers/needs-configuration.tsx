/** A required header has no value yet: the server is neither checked nor served until it has one. */
export function NeedsConfigurationBadge() {
  return (
    <span
      data-needs-configuration
      title="A required header has no value yet: the server is not checked nor served by the gateway until an admin sets it"
      className="rounded bg-amber-100 px-1.5 py-0.5 text-xs font-medium text-amber-950 dark:bg-amber-500/15 dark:text-amber-100"
    >
      needs configuration
    </span>
  );
}
