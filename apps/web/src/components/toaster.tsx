import { createPortal } from "react-dom";
import { useToaster } from "react-hot-toast/headless";
import { useTopModal } from "./modal-stack";

/**
 * Puts the region in the top layer above the dialog that holds it. A browser without popovers
 * leaves it inside the dialog's box, where it is still read.
 */
const aboveTheDialog = (region: HTMLDivElement | null) => region?.showPopover?.();

/**
 * Renders react-hot-toast's queue with our own markup: its default Toaster injects a <style>
 * element, which the dashboard's Content-Security-Policy refuses. While a modal dialog is open the
 * toasts render inside it, as a popover: outside it they would sit under its backdrop, inert.
 */
export function Toaster() {
  const { toasts } = useToaster({ duration: 5000 });
  const modal = useTopModal();
  const region = (
    <div
      aria-live="polite"
      popover={modal ? "manual" : undefined}
      ref={modal ? aboveTheDialog : undefined}
      className="pointer-events-none fixed top-auto right-3 bottom-3 left-3 z-50 m-0 flex flex-col items-end gap-2 overflow-visible border-0 bg-transparent p-0 sm:left-auto"
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
  return modal ? createPortal(region, modal) : region;
}
