import type { ApiKey } from "@switchboard/shared";
import { act, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeApi, renderPage, serverFixture } from "../../test/harness";
import { KeysPanel } from "./keys-panel";
import { KEYS_REFRESH_MS } from "./queries";

const server = serverFixture();

const key = (overrides: Partial<ApiKey> = {}): ApiKey => ({
  id: "0b0c0d0e-0000-4000-8000-0000000000aa",
  serverId: server.id,
  name: "ci-bot",
  prefix: "mcp_abcdefgh",
  createdBy: "user-1",
  createdAt: new Date().toISOString(),
  expiresAt: null,
  lastUsedAt: null,
  revokedAt: null,
  tools: null,
  ...overrides,
});

describe("KeysPanel", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("shows a key's first use without a reload, by reading the keys again while the page is open", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let current = key();
    const api = fakeApi({
      [`GET /mcp/servers/${server.id}/keys`]: () => ({ body: { items: [current] } }),
      [`GET /mcp/servers/${server.id}/usage/keys`]: () => ({
        body: { from: current.createdAt, to: current.createdAt, items: [] },
      }),
    });
    renderPage(<KeysPanel serverId={server.id} canManage server={server} />);
    expect(await screen.findByText(/last used never/)).toBeTruthy();

    // The gateway used the key: the server's answer changes, nothing else tells the page.
    current = key({ lastUsedAt: new Date().toISOString() });
    await act(() => vi.advanceTimersByTimeAsync(KEYS_REFRESH_MS));

    expect(await screen.findByText(/last used (now|\d+ seconds? ago)/)).toBeTruthy();
    expect(api.requests.filter((r) => r.path.endsWith("/keys")).length).toBeGreaterThanOrEqual(2);
  });
});
