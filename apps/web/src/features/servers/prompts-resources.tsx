import type { Server } from "@switchboard/shared";
import type { ReactNode } from "react";

function Section({ title, count, children }: { title: string; count: number; children: ReactNode }) {
  return (
    <details className="text-sm">
      <summary className="cursor-pointer font-medium">
        {title} ({count})
      </summary>
      {count === 0 ? (
        <p className="mt-1 text-slate-600 dark:text-slate-400">None offered.</p>
      ) : (
        <ul className="mt-1 space-y-1">{children}</ul>
      )}
    </details>
  );
}

/**
 * The prompts and resources the last check found, folded: they matter less than tools, and a
 * server may offer hundreds of resources. `loading` while a list's copy (counts only) is shown.
 */
export function PromptsAndResources({ server, loading }: { server: Server; loading: boolean }) {
  const prompts = loading ? server.promptsCount : server.prompts.length;
  const resources = loading ? server.resourcesCount : server.resources.length;
  return (
    <div className="mt-4 space-y-2 border-t border-slate-900/10 pt-3 dark:border-white/10">
      <Section title="Prompts" count={prompts}>
        {server.prompts.map((p) => (
          <li key={p.name}>
            <code>{p.name}</code>
            {p.title && <span> · {p.title}</span>}
            {p.description && <span className="text-slate-600 dark:text-slate-400"> — {p.description}</span>}
          </li>
        ))}
      </Section>
      <Section title="Resources" count={resources}>
        {server.resources.map((r) => (
          <li key={r.uri}>
            <span className="font-medium">{r.title ?? r.name}</span>{" "}
            <code className="break-all">{r.uri}</code>
            {r.mimeType && <span className="text-slate-600 dark:text-slate-400"> · {r.mimeType}</span>}
          </li>
        ))}
      </Section>
    </div>
  );
}
