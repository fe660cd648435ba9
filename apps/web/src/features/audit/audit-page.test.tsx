import { AuditAction, type AuditLog, PAGE_SIZE_DEFAULT } from "@switchboard/shared";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { fakeApi, renderPage, type SentRequest } from "../../test/harness";
import { AuditPage } from "./audit-page";
import { diffView } from "./diff-view";

const SERVER_ID = "4f7c0a52-8c1e-4d2a-9a55-0a3b1c2d3e4f";
const GONE_ID = "9d1e0b33-2c4f-4e6a-8b7c-1a2b3c4d5e6f";
const BOB_ID = "b0b0b0b0-0000-4000-8000-000000000002";

const entry = (overrides: Partial<AuditLog>): AuditLog => ({
  id: crypto.randomUUID(),
  tenantId: "org-1",
  actorType: "user",
  actorId: "user-1",
  actorName: "Ada",
  actorEmail: "ada@example.com",
  action: "server.update",
  targetType: "server",
  targetId: SERVER_ID,
  targetName: "Weather",
  targetExists: true,
  correlationId: null,
  ip: null,
  userAgent: null,
  changes: null,
  createdAt: "2026-03-01T12:00:00.000Z",
  ...overrides,
});

/** The audit list answering `items` (whatever the filters), and the organization's two members. */
const auditLog = (items: AuditLog[] = [], total = items.length) =>
  fakeApi({
    "GET /mcp/audit-logs": () => ({ body: { items, page: 1, pageSize: PAGE_SIZE_DEFAULT, total } }),
    "GET /api/auth/organization/get-full-organization": () => ({
      body: {
        id: "org-1",
        members: [
          { id: "m-1", role: "owner", user: { id: "user-1", email: "ada@example.com", name: "Ada" } },
          { id: "m-2", role: "admin", user: { id: BOB_ID, email: "bob@example.com", name: "Bob" } },
        ],
        invitations: [],
      },
    }),
  });

const lastListRequest = (requests: SentRequest[]) =>
  requests.filter((r) => r.path === "/mcp/audit-logs").at(-1);

describe("AuditPage", () => {
  it("offers every action the audit trail records, and nothing else", async () => {
    auditLog();
    renderPage(<AuditPage />, { path: "/audit" });
    await screen.findByText("Nothing recorded matches these filters");

    const select = screen.getByLabelText("Action") as HTMLSelectElement;
    expect([...select.options].map((o) => o.value)).toEqual(["", ...AuditAction.options]);
  });

  it("asks the API for the chosen action, a page of the default size at a time", async () => {
    const api = auditLog();
    renderPage(<AuditPage />, { path: "/audit" });
    const user = userEvent.setup();
    await user.selectOptions(screen.getByLabelText("Action"), "organization.delete");
    await user.click(screen.getByRole("button", { name: "Filter" }));

    await waitFor(() =>
      expect(lastListRequest(api.requests)?.search.get("action")).toBe("organization.delete"),
    );
    expect(lastListRequest(api.requests)?.search.get("pageSize")).toBe(String(PAGE_SIZE_DEFAULT));
  });

  it("names actors and targets instead of showing their ids, and links a server that still exists", async () => {
    auditLog([
      entry({ id: "e-1" }),
      entry({
        id: "e-2",
        action: "server.delete",
        targetId: GONE_ID,
        targetName: "Old Maps",
        targetExists: false,
        actorId: BOB_ID,
        actorName: "Bob",
        actorEmail: "bob@example.com",
      }),
      entry({
        id: "e-3",
        action: "key.revoke",
        targetType: "api_key",
        targetId: "7e57c0de-0000-4000-8000-000000000003",
        targetName: "deploy key",
        actorType: "system",
        actorId: "cli",
        actorName: "cli",
        actorEmail: null,
      }),
    ]);
    renderPage(<AuditPage />, { path: "/audit" });
    const list = await screen.findByRole("list");
    const [first, second, third] = within(list).getAllByRole("listitem");

    const link = within(first as HTMLElement).getByRole("link", { name: "Weather" });
    expect(link.getAttribute("href")).toBe(`/servers/${SERVER_ID}`);
    expect(first?.textContent).toContain("by Ada (ada@example.com)");

    expect(within(second as HTMLElement).queryByRole("link")).toBeNull();
    expect(second?.textContent).toContain("Old Maps (deleted)");
    expect(second?.textContent).toContain("by Bob (bob@example.com)");

    expect(third?.textContent).toContain("API key deploy key");
    expect(third?.textContent).toContain("by Switchboard: cli");

    expect(list.textContent).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/);
  });

  it.each([
    [0, "0 entries"],
    [1, "1 entry"],
    [2, "2 entries"],
    [1234, `${(1234).toLocaleString()} entries`],
  ])("counts %i as “%s”", async (total, text) => {
    auditLog(total === 0 ? [] : [entry({})], total);
    renderPage(<AuditPage />, { path: "/audit" });
    await waitFor(() =>
      expect(screen.getByTestId("audit-total").textContent).toMatch(new RegExp(`^${text} · page 1 of`)),
    );
  });

  it("reads its filters and page from the URL, and shows them in the form and the export links", async () => {
    const api = auditLog([entry({})], 120);
    const from = "2026-02-01T08:30:00.000Z";
    renderPage(<AuditPage />, {
      path: `/audit?action=server.delete&actorId=${BOB_ID}&from=${encodeURIComponent(from)}&page=2`,
    });

    await waitFor(() => expect(lastListRequest(api.requests)?.search.get("page")).toBe("2"));
    const sent = lastListRequest(api.requests)?.search;
    expect(sent?.get("action")).toBe("server.delete");
    expect(sent?.get("actorId")).toBe(BOB_ID);
    expect(sent?.get("from")).toBe(from);
    expect((screen.getByLabelText("Action") as HTMLSelectElement).value).toBe("server.delete");
    await waitFor(() => expect((screen.getByLabelText("Actor") as HTMLSelectElement).value).toBe(BOB_ID));
    expect(new Date((screen.getByLabelText("From") as HTMLInputElement).value).toISOString()).toBe(from);
    await screen.findByText(/page 2 of 3/);

    const csv = new URL(
      screen.getByRole("link", { name: "Export CSV" }).getAttribute("href") ?? "",
      "http://x",
    );
    expect(csv.pathname).toBe("/mcp/audit/export");
    expect(Object.fromEntries(csv.searchParams)).toEqual({
      action: "server.delete",
      actorId: BOB_ID,
      from,
      format: "csv",
    });
    const jsonl = screen.getByRole("link", { name: "Export JSON lines" }).getAttribute("href");
    expect(jsonl).toContain("format=jsonl");
    expect(jsonl).not.toContain("page=");
  });

  it("puts a new filter in the URL, picking the actor from the organization's members", async () => {
    const api = auditLog([entry({})], 120);
    const { history } = renderPage(<AuditPage />, { path: "/audit?page=2" });
    const user = userEvent.setup();
    const actor = screen.getByLabelText("Actor") as HTMLSelectElement;
    await waitFor(() => expect([...actor.options].map((o) => o.text)).toContain("Bob (bob@example.com)"));
    expect([...actor.options].map((o) => o.text)).toEqual([
      "Anyone",
      "Ada (ada@example.com)",
      "Bob (bob@example.com)",
    ]);

    await user.selectOptions(actor, BOB_ID);
    await user.selectOptions(screen.getByLabelText("Action"), "key.revoke");
    await user.click(screen.getByRole("button", { name: "Filter" }));

    // A new filter starts again at its first page.
    await waitFor(() => expect(history.at(-1)).toBe(`/audit?action=key.revoke&actorId=${BOB_ID}`));
    await waitFor(() => expect(lastListRequest(api.requests)?.search.get("actorId")).toBe(BOB_ID));
    expect(lastListRequest(api.requests)?.search.get("page")).toBe("1");

    await user.click(screen.getByRole("button", { name: "Next" }));
    await waitFor(() => expect(history.at(-1)).toBe(`/audit?action=key.revoke&actorId=${BOB_ID}&page=2`));

    await user.click(screen.getByRole("button", { name: "Clear" }));
    await waitFor(() => expect(history.at(-1)).toBe("/audit"));
    expect(actor.value).toBe("");
  });

  it("keeps an actor who is not a member now in the picker, by name", async () => {
    auditLog([entry({ actorType: "api_key", actorId: "key-9", actorName: "ci key", actorEmail: null })]);
    renderPage(<AuditPage />, { path: "/audit?actorId=key-9" });
    const actor = screen.getByLabelText("Actor") as HTMLSelectElement;
    await waitFor(() => expect(actor.selectedOptions[0]?.text).toBe("API key ci key"));
    expect(actor.value).toBe("key-9");
  });

  it("shows a revocation's change, not the fields it only recorded beside it as new", async () => {
    auditLog([
      entry({
        action: "key.revoke",
        targetType: "api_key",
        changes: {
          serverId: SERVER_ID,
          name: "deploy key",
          prefix: "mcp_abcdefgh",
          revokedAt: { from: null, to: "2026-03-01T12:00:00.000Z" },
        },
      }),
    ]);
    renderPage(<AuditPage />, { path: "/audit" });
    const item = within(await screen.findByRole("list")).getByRole("listitem");
    await userEvent.setup().click(within(item).getByText("Changes"));
    const [changes, recorded] = within(item).getAllByRole("table");

    const changedRows = within(changes as HTMLElement)
      .getAllByRole("row")
      .slice(1);
    expect(changedRows.map((r) => [...r.querySelectorAll("td")].map((c) => c.textContent))).toEqual([
      ["revokedAt", "null", "2026-03-01T12:00:00.000Z"],
    ]);
    const recordedRows = within(recorded as HTMLElement)
      .getAllByRole("row")
      .slice(1);
    expect(recordedRows.map((r) => r.querySelector("td")?.textContent)).toEqual([
      "serverId",
      "name",
      "prefix",
    ]);
    expect(
      within(recorded as HTMLElement)
        .getAllByRole("columnheader")
        .map((h) => h.textContent),
    ).toEqual(["Field", "Value"]);
  });
});

describe("diffView", () => {
  it("leaves out a field whose before and after are equal, however its keys are ordered", () => {
    expect(
      diffView({
        enabled: { from: true, to: true },
        headers: { from: [{ name: "A", value: "x" }], to: [{ value: "x", name: "A" }] },
        displayName: { from: "Old", to: "New" },
      }),
    ).toEqual({ changed: [{ field: "displayName", from: "Old", to: "New" }], recorded: [] });
  });

  it("keeps a snapshot's fields as recorded, not changed", () => {
    expect(diffView({ name: "weather", tags: ["a"] })).toEqual({
      changed: [],
      recorded: [
        { field: "name", value: "weather" },
        { field: "tags", value: ["a"] },
      ],
    });
  });

  it("has nothing to show for no changes, or only unchanged ones", () => {
    expect(diffView(null)).toBeNull();
    expect(diffView({ role: { from: "admin", to: "admin" } })).toBeNull();
  });
});
