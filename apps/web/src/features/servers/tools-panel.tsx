import type { ToolDefinition } from "@switchboard/shared";
import { Panel, Spinner } from "../../components/ui";
import { JsonBlock } from "./json-block";

/**
 * The MCP tool annotations worth a glance, when the server states them. They are hints the
 * server gives about itself, not guarantees, so only an explicit `true` is shown.
 */
const HINTS = [
  {
    key: "readOnlyHint",
    label: "read-only",
    className: "bg-emerald-100 text-emerald-900 dark:bg-emerald-500/15 dark:text-emerald-200",
  },
  {
    key: "destructiveHint",
    label: "destructive",
    className: "bg-rose-100 text-rose-900 dark:bg-rose-500/15 dark:text-rose-200",
  },
  {
    key: "idempotentHint",
    label: "idempotent",
    className: "bg-slate-100 text-slate-800 dark:bg-slate-500/15 dark:text-slate-200",
  },
  {
    key: "openWorldHint",
    label: "open world",
    className: "bg-amber-100 text-amber-900 dark:bg-amber-500/15 dark:text-amber-200",
  },
] as const;

export function ToolHints({ tool }: { tool: ToolDefinition }) {
  const hints = HINTS.filter((h) => tool.annotations?.[h.key] === true);
  if (!hints.length) return null;
  return (
    <span className="inline-flex flex-wrap gap-1">
      {hints.map((h) => (
        <span
          key={h.key}
          title={h.key}
          className={`rounded px-1.5 py-0.5 text-xs font-medium ${h.className}`}
        >
          {h.label}
        </span>
      ))}
    </span>
  );
}

/** One tool as the server defines it: name, title, hints, description, and its schemas on demand. */
export function ToolItem({ tool }: { tool: ToolDefinition }) {
  return (
    <li data-tool={tool.name} className="py-2">
      <div className="flex flex-wrap items-center gap-x-2 gap-y-1">
        <code className="font-medium">{tool.name}</code>
        {tool.title && <span className="text-sm">{tool.title}</span>}
        <ToolHints tool={tool} />
      </div>
      {tool.description && (
        <p className="mt-0.5 whitespace-pre-line text-sm text-slate-600 dark:text-slate-400">
          {tool.description}
        </p>
      )}
      <details className="mt-1 text-sm">
        <summary className="cursor-pointer text-indigo-700 dark:text-indigo-300">Input schema</summary>
        <JsonBlock value={tool.inputSchema} />
      </details>
      {tool.outputSchema && (
        <details className="mt-1 text-sm">
          <summary className="cursor-pointer text-indigo-700 dark:text-indigo-300">Output schema</summary>
          <JsonBlock value={tool.outputSchema} />
        </details>
      )}
    </li>
  );
}

/**
 * The tools a server offers. The list scrolls within its panel, so that a server with many tools
 * does not push the rest of the page out of sight.
 */
export function ToolsPanel({
  tools,
  count,
  loading,
}: {
  tools: ToolDefinition[];
  count: number;
  loading: boolean;
}) {
  return (
    <Panel title={`Tools (${loading ? count : tools.length})`}>
      {loading ? (
        <Spinner label="Loading tools…" />
      ) : tools.length === 0 ? (
        <p className="text-sm text-slate-600 dark:text-slate-400">None discovered yet.</p>
      ) : (
        // No tabIndex needed to scroll by keyboard: each tool's schema toggle is focusable.
        <ul
          aria-label="Tool list"
          className="-mx-1 max-h-[28rem] divide-y divide-slate-900/10 overflow-y-auto px-1 dark:divide-white/10"
        >
          {tools.map((t) => (
            <ToolItem key={t.name} tool={t} />
          ))}
        </ul>
      )}
    </Panel>
  );
}
