import { describe, expect, it } from "vitest";
import { renderMarkdown } from "./markdown";

/** Renders into a detached element the way the dashboard does, and reports anything that ran. */
function mount(markdown: string) {
  const ran: string[] = [];
  (globalThis as unknown as { __xss: (why: string) => void }).__xss = (why) => ran.push(why);
  const host = document.createElement("div");
  host.innerHTML = renderMarkdown(markdown);
  document.body.append(host);
  return { host, ran };
}

describe("renderMarkdown", () => {
  it("renders Markdown", () => {
    const html = renderMarkdown(
      "# Weather\n\nAnswers **fast**, see [docs](https://example.com/docs).\n\n- one\n- `two`",
    );
    expect(html).toContain("<h1>Weather</h1>");
    expect(html).toContain("<strong>fast</strong>");
    expect(html).toContain("<li><code>two</code></li>");
    expect(html).toMatch(
      /<a href="https:\/\/example.com\/docs" rel="noopener noreferrer nofollow" target="_blank">docs<\/a>/,
    );
  });

  it("marks an image without alternative text decorative, and keeps the text it was given", () => {
    const { host } = mount(
      '![Latency graph](https://example.com/a.png)\n\n<img src="https://example.com/b.png">',
    );
    expect([...host.querySelectorAll("img")].map((i) => i.getAttribute("alt"))).toEqual([
      "Latency graph",
      "",
    ]);
  });

  it.each([
    ["a script tag", "<script>__xss('script')</script>"],
    ["an img onerror", "<img src=x onerror=\"__xss('onerror')\">"],
    ["an svg onload", "<svg onload=\"__xss('svg')\"></svg>"],
    ["a javascript: link", "[click](javascript:__xss('link'))"],
    ["a raw javascript: href", "<a href=\"javascript:__xss('href')\">x</a>"],
    ["a data: html link", "<a href=\"data:text/html,<script>__xss('data')</script>\">x</a>"],
    ["an iframe", "<iframe src=\"javascript:__xss('iframe')\"></iframe>"],
    ["a style tag", "<style>body{background:url(\"javascript:__xss('style')\")}</style>"],
    ["an inline style", "<p style=\"background:url(javascript:__xss('attr'))\">x</p>"],
    ["a form", "<form action=\"javascript:__xss('form')\"><button>go</button></form>"],
    ["a details ontoggle", "<details open ontoggle=\"__xss('toggle')\">x</details>"],
    ["mixed case", "<ScRiPt>__xss('case')</sCrIpT>"],
    ["an encoded href", "<a href=\"&#106;avascript:__xss('encoded')\">x</a>"],
    ["a markdown image with an event", "![x](x\" onerror=\"__xss('md-img'))"],
  ])("neutralises %s", (_, payload) => {
    const { host, ran } = mount(payload);
    expect(ran).toEqual([]);
    const elements = [...host.querySelectorAll("*")];
    expect(elements.map((e) => e.tagName.toLowerCase())).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/^(script|iframe|style|form|button|object|embed)$/)]),
    );
    for (const el of elements) {
      for (const attr of el.getAttributeNames()) {
        expect(attr).not.toMatch(/^on|^style$/);
        expect(el.getAttribute(attr) ?? "").not.toMatch(/^\s*(javascript|data:text\/html)/i);
      }
    }
  });
});
