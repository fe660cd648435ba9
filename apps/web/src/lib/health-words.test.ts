import { HealthStatus } from "@switchboard/shared";
import { describe, expect, it } from "vitest";
import probeSource from "../../../server/src/modules/health/probe.ts?raw";
import probeWorkerSource from "../../../server/src/modules/health/probe-worker.ts?raw";
import { protocolLabel, reasonLine, reasonText, STATUS_LABELS } from "./health-words";

/**
 * Every fixed reason code the prober can report, read from its source: what `classify` returns,
 * its table of network codes, and the outcomes it builds directly. Status names are left out.
 */
const emittedCodes = () => {
  const literal = /(?:return |failed\(|error: |\? |[A-Z_]+: )"([a-z]+(?:_[a-z]+)*)"/g;
  const codes = [...probeSource.matchAll(literal), ...probeWorkerSource.matchAll(literal)].map((m) => m[1]);
  return [...new Set(codes)].filter(
    (c): c is string => !!c && !(HealthStatus.options as string[]).includes(c),
  );
};

describe("health words", () => {
  it("names every status the API knows", () => {
    for (const s of HealthStatus.options) expect(STATUS_LABELS[s]).toMatch(/^[A-Z]/);
  });

  it("puts the reasons a user sees most in plain words", () => {
    for (const code of [
      "connection_refused",
      "timeout",
      "dns",
      "tls",
      "auth_rejected",
      "unsupported_protocol_version",
      "protocol_error",
      "target_refused",
      "response_too_large",
      "slow",
    ]) {
      expect(reasonText(code), code).not.toBe(code);
    }
  });

  it("has plain words for every reason code the prober emits, shown with the code beside them", () => {
    const codes = emittedCodes();
    // The extraction itself must keep finding the codes, or this test would pass on nothing.
    expect(codes).toEqual(
      expect.arrayContaining(["connection_refused", "timeout", "dns", "tls", "internal"]),
    );
    for (const code of codes) {
      const text = reasonText(code);
      expect(text, code).not.toBe(code);
      expect(reasonLine(code)).toBe(`${text} (${code})`);
    }
    expect(reasonLine("connection_refused")).toBe(
      "Connection refused: nothing answers at that address (connection_refused)",
    );
  });

  it("reads an HTTP status out of its code, and passes an unknown code through as it is", () => {
    expect(reasonText("http_503")).toBe("Server error (HTTP 503)");
    expect(reasonText("http_404")).toBe("Request refused (HTTP 404)");
    expect(reasonText("something_new")).toBe("something_new");
    expect(reasonLine("something_new")).toBe("something_new");
    expect(reasonLine("timeout")).toBe("No answer in time (timeout)");
  });

  it("names the protocol revision with its era", () => {
    const info = { name: "x", version: "1", capabilities: {} };
    expect(protocolLabel({ ...info, protocolVersion: "2026-07-28", era: "modern" })).toBe(
      "2026-07-28 (modern)",
    );
    expect(protocolLabel({ ...info, protocolVersion: "2025-11-25", era: "legacy" })).toBe(
      "2025-11-25 (2025 handshake)",
    );
    expect(protocolLabel(null)).toBe("not reached yet");
  });
});
