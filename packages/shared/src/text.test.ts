import { describe, expect, it } from "vitest";
import { KeyIdParams } from "./keys";
import { ServerIdParams } from "./servers";
import { httpUrl, line, nameLine } from "./text";

describe("nameLine", () => {
  it.each([
    "202A",
    "202B",
    "202C",
    "202D",
    "202E",
    "2066",
    "2067",
    "2068",
    "2069",
    "200B",
    "200C",
    "200D",
    "2060",
    "FEFF",
  ])("refuses U+%s in a name", (hex) => {
    const name = `safe${String.fromCodePoint(Number.parseInt(hex, 16))}name`;
    expect(nameLine(100).safeParse(name).success).toBe(false);
    // Plain lines (search terms, header values) are not names: they keep taking them.
    expect(line(100).safeParse(name).success).toBe(true);
  });

  it("takes letters of any script, accents, emoji and right-to-left text", () => {
    expect(nameLine(100).parse("Météo 🌦 طقس 天気 Ελληνικά")).toBe("Météo 🌦 طقس 天気 Ελληνικά");
  });
});

describe("httpUrl", () => {
  it.each([
    "http://user:pass@example.com/mcp",
    "https://user@example.com/mcp",
    "https://:pass@example.com/mcp",
    "HTTPS://a%40b:c@example.com/",
  ])("refuses credentials in %s", (url) => {
    const parsed = httpUrl.safeParse(url);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(/upstream header/);
  });

  it("takes a URL with an @ only in its path or query", () => {
    expect(httpUrl.parse("https://example.com/mcp/@team?by=a@b")).toBe(
      "https://example.com/mcp/@team?by=a@b",
    );
  });
});

describe("id params", () => {
  it("lower-cases a server id and a key id typed in upper case", () => {
    const id = "3F2504E0-4F89-41D3-9A0C-0305E82C3301";
    expect(ServerIdParams.parse({ id })).toEqual({ id: id.toLowerCase() });
    expect(KeyIdParams.parse({ id, keyId: id })).toEqual({ id: id.toLowerCase(), keyId: id.toLowerCase() });
  });
});
