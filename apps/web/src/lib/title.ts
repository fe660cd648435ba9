import { type ReactNode, useEffect } from "react";

/** Names the browser tab after the page ("Audit log · Switchboard"), so tabs and history tell pages apart. */
export function useTitle(title: string | null) {
  useEffect(() => {
    document.title = title ? `${title} · Switchboard` : "Switchboard";
  }, [title]);
}

/**
 * A page titled by its route. A page that names itself from its data (a server's) calls `useTitle`
 * instead: a parent's effect runs after its child's and would overwrite it.
 */
export function Titled({ title, children }: { title: string; children: ReactNode }) {
  useTitle(title);
  return children;
}
