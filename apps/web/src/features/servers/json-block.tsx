/**
 * Pretty-printed JSON. Long lines wrap rather than scroll: a scrolling block would need to be
 * focusable to be read by keyboard, and a schema reads well enough wrapped.
 */
export function JsonBlock({ value }: { value: unknown }) {
  return (
    <pre className="mt-1 whitespace-pre-wrap break-all rounded-lg bg-slate-900/5 p-2 font-mono text-xs dark:bg-white/10">
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}
