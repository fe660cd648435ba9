import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { uptimePercent } from "../../lib/format";
import { LatencySparkline, sparklinePath } from "./sparkline";

describe("sparklinePath", () => {
  it("draws the highest value at the top and the lowest at the bottom, oldest on the left", () => {
    expect(sparklinePath([100, 200, 150], 20, 10)).toBe("M2 8 L10 2 L18 5");
  });

  it("breaks the line where an hour had no check, and draws a lone hour as a dot", () => {
    expect(sparklinePath([100, null, 200, 300, null], 10, 10)).toBe("M2 8 h0 M5 5 L6.5 2");
  });

  it("draws a steady latency as a flat line through the middle", () => {
    expect(sparklinePath([50, 50], 10, 10)).toBe("M2 5 L8 5");
  });

  it("draws nothing without a value", () => {
    expect(sparklinePath([null, null])).toBe("");
  });
});

describe("LatencySparkline", () => {
  it("is named by the latest latency, even when the current hour had no check", () => {
    render(<LatencySparkline values={[80, 120, null]} />);
    expect(screen.getByRole("img", { name: "Latency over 24 h, last 120 ms" })).toBeTruthy();
  });

  it("shows a dash, not an empty chart, when no check answered", () => {
    const { container } = render(<LatencySparkline values={[null, null]} />);
    expect(container.querySelector("svg")).toBeNull();
    expect(container.textContent).toBe("—");
  });
});

describe("uptimePercent", () => {
  it("rounds down, so that only a perfect record reads 100%", () => {
    expect(uptimePercent(1)).toBe("100%");
    expect(uptimePercent(0.99996)).toBe("99.9%");
    expect(uptimePercent(0.57)).toBe("57.0%");
    expect(uptimePercent(0)).toBe("0.0%");
  });

  it("shows a dash when no check ran", () => {
    expect(uptimePercent(null)).toBe("—");
  });
});
