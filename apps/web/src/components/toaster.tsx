import { useToaster } from "react-hot-toast/headless";

/**
 * Renders react-hot-toast's queue with our own markup: its default Toaster injects a <style>
 * element, which the dashboard's Content-Security-Policy refuses.
 */
export function Toaster() {
  const { toasts } = useToaster({ duration: 5000 });
  return (
    <div
      aria-live="polite"
      className="pointer-events-none fixed right-3 bottom-3 left-3 z-50 flex flex-col items-end gap-2 sm:left-auto"
    >
      {toasts
        .filter((t) => t.visible)
        .map((t) => (
          <div
            key={t.id}
            role={t.type === "error" ? "alert" : "status"}
            data-toast={t.type}
            className={`glass pointer-events-auto max-w-md px-4 py-3 text-sm font-medium ${
              t.type === "error"
                ? "text-rose-800 dark:text-rose-200"
                : "text-emerald-800 dark:text-emerald-200"
            }`}
          >
            {typeof t.message === "function" ? t.message(t) : t.message}
          </div>
        ))}
    </div>
  );
}
