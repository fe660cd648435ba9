import DOMPurify, { type DOMPurify as Purifier } from "dompurify";
import { marked } from "marked";

const hooked = new WeakSet<Purifier>();

/**
 * Links in rendered descriptions open safely: never with access to the dashboard's window. An
 * image written without alternative text is marked decorative, so a screen reader skips it rather
 * than reading out its file name.
 */
function harden(purify: Purifier) {
  if (hooked.has(purify)) return;
  hooked.add(purify);
  purify.addHook("afterSanitizeAttributes", (node) => {
    if (node.tagName === "A") {
      node.setAttribute("rel", "noopener noreferrer nofollow");
      node.setAttribute("target", "_blank");
    }
    if (node.tagName === "IMG" && !node.hasAttribute("alt")) node.setAttribute("alt", "");
  });
}

/**
 * Renders a server description (Markdown) to HTML that is safe to insert: marked produces the
 * HTML, DOMPurify removes scripts, event handlers, `javascript:` URLs, styles, forms and frames.
 * In the browser the default DOMPurify is used; elsewhere pass one bound to a window.
 */
export function renderMarkdown(markdown: string, purify: Purifier = DOMPurify): string {
  harden(purify);
  const html = marked.parse(markdown, { async: false, gfm: true }) as string;
  return purify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "iframe", "object", "embed"],
    FORBID_ATTR: ["style", "srcset"],
  });
}
