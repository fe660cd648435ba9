import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { fakeApi, fieldError, renderPage } from "../../test/harness";
import { ServerForm } from "./server-form";

const HINT = /private addresses need ALLOW_PRIVATE_TARGETS=true/;

async function enter(url: string) {
  const user = userEvent.setup();
  await user.type(screen.getByLabelText(/^Name$/), "local");
  await user.type(screen.getByLabelText("URL"), url);
  return user;
}

describe("ServerForm, with a URL the server refuses as private", () => {
  it("says at the URL field, on registering, that private addresses need ALLOW_PRIVATE_TARGETS=true", async () => {
    fakeApi({
      "POST /mcp/servers": () => ({
        status: 400,
        body: {
          status: 400,
          code: "VALIDATION",
          detail: "Switchboard does not probe private, loopback or link-local addresses",
          issues: [
            {
              path: "body.url",
              message:
                "127.0.0.1 is a private, loopback, link-local or reserved address: private addresses need ALLOW_PRIVATE_TARGETS=true on the Switchboard server",
            },
          ],
        },
      }),
    });
    renderPage(<ServerForm />, { path: "/servers/new" });
    const user = await enter("http://127.0.0.1:9/mcp");
    await user.click(screen.getByRole("button", { name: "Register server" }));
    await waitFor(() => expect(fieldError("url")).toMatch(HINT));
  });

  it("says it at the URL field when a connection test is refused before connecting", async () => {
    fakeApi({
      "POST /mcp/probe": () => ({
        body: {
          status: "unhealthy",
          latencyMs: 0,
          error: "target_refused",
          checkedAt: "2026-01-01T00:00:00.000Z",
          serverInfo: null,
          tools: [],
        },
      }),
    });
    renderPage(<ServerForm />, { path: "/servers/new" });
    const user = await enter("http://10.0.0.5/mcp");
    await user.click(screen.getByRole("button", { name: "Test connection" }));
    await waitFor(() => expect(fieldError("url")).toMatch(HINT));
    expect(screen.getByLabelText("URL").getAttribute("aria-invalid")).toBe("true");
  });
});
