import { cleanup, configure } from "@testing-library/react";
import toast from "react-hot-toast/headless";
import { afterEach } from "vitest";

// Vitest runs without globals, so Testing Library cannot register its own cleanup; toasts live in
// a module-wide store that would otherwise carry one test's messages into the next.
// Node 25 and later have a localStorage of their own, unusable without --localstorage-file, which
// hides jsdom's when Vitest copies the window's globals: put jsdom's back.
const dom = (globalThis as { jsdom?: { window: Window } }).jsdom;
if (dom && globalThis.localStorage !== dom.window.localStorage) {
  for (const name of ["localStorage", "sessionStorage"] as const)
    Object.defineProperty(globalThis, name, { value: dom.window[name], configurable: true, writable: true });
}

// A page renders lazily loaded routes: on a busy machine that takes longer than the default 1 s.
configure({ asyncUtilTimeout: 5000 });

afterEach(() => {
  cleanup();
  toast.remove();
});
