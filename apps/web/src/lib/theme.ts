export type ThemeChoice = "light" | "dark" | "system";
const KEY = "switchboard.theme";

export function storedTheme(): ThemeChoice {
  const v = localStorage.getItem(KEY);
  return v === "light" || v === "dark" ? v : "system";
}

/** Applies a choice: `system` follows the operating system, live. */
export function applyTheme(choice: ThemeChoice = storedTheme()): void {
  const dark =
    choice === "dark" || (choice === "system" && matchMedia("(prefers-color-scheme: dark)").matches);
  document.documentElement.classList.toggle("dark", dark);
  document.documentElement.style.colorScheme = dark ? "dark" : "light";
}

export function setTheme(choice: ThemeChoice): void {
  if (choice === "system") localStorage.removeItem(KEY);
  else localStorage.setItem(KEY, choice);
  applyTheme(choice);
}

matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => applyTheme());
