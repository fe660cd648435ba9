import { useSyncExternalStore } from "react";

/**
 * The modal dialogs open now, the topmost last. A modal dialog sits in the browser's top layer,
 * above any z-index, and makes the rest of the page inert (unseen by screen readers, deaf to
 * pointers): what must be read while one is open, such as a toast, goes inside the topmost.
 */
const open: HTMLDialogElement[] = [];
const listeners = new Set<() => void>();
const notify = () => {
  for (const listener of listeners) listener();
};

export function pushModal(dialog: HTMLDialogElement) {
  dropModal(dialog);
  open.push(dialog);
  notify();
}

export function dropModal(dialog: HTMLDialogElement) {
  const at = open.indexOf(dialog);
  if (at < 0) return;
  open.splice(at, 1);
  notify();
}

const subscribe = (listener: () => void) => {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
};
const top = () => open.at(-1) ?? null;

/** The topmost open modal dialog, or null. */
export const useTopModal = () => useSyncExternalStore(subscribe, top, () => null);
