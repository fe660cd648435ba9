/**
 * Where to go after signing in: the page that was asked for, carried as `?next=` on the sign-in
 * page. Only a path of this site is taken (`/servers/…`), never `//elsewhere` or a full URL.
 */
export function nextPage(search: string): string {
  const next = new URLSearchParams(search).get("next");
  return next && /^\/(?![/\\])/.test(next) ? next : "/";
}

/** The sign-in page that returns to `path` (with its query) afterwards. */
export function signInFor(path: string, search = ""): string {
  const here = path + (search ? `?${search}` : "");
  return here === "/" ? "/sign-in" : `/sign-in?next=${encodeURIComponent(here)}`;
}
