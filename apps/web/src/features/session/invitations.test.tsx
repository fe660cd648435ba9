import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeAll, describe, expect, it } from "vitest";
import { fakeApi, renderPage } from "../../test/harness";
import { InvitationPage, InvitationsBanner } from "./invitations";

const DIALOG = "Decline this invitation?";

/** Invitations to the signed-in user, answered as the server would: an answered one leaves the list. */
function invited() {
  const mine = [
    { id: "inv-a", organizationId: "org-2", organizationName: "Globex", role: "admin", status: "pending" },
  ];
  return fakeApi({
    "GET /api/me/invitations": () => ({ body: mine }),
    "POST /api/invitations/inv-a/reject": () => {
      for (const i of mine) i.status = "rejected";
      return { body: { ok: true } };
    },
  });
}

describe("declining an invitation", () => {
  beforeAll(() => {
    // jsdom has <dialog> without its methods: these open and close it by its attribute, as a browser does.
    HTMLDialogElement.prototype.showModal ??= function (this: HTMLDialogElement) {
      this.setAttribute("open", "");
    };
    HTMLDialogElement.prototype.close ??= function (this: HTMLDialogElement) {
      this.removeAttribute("open");
      this.dispatchEvent(new Event("close"));
    };
  });

  it("declines from the banner once confirmed, naming the organization, and the invitation leaves", async () => {
    const api = invited();
    renderPage(<InvitationsBanner />);
    const user = userEvent.setup();
    const banner = await screen.findByRole("region", { name: "Invitations" });

    await user.click(within(banner).getByRole("button", { name: "Decline" }));
    const dialog = await screen.findByRole("dialog", { name: DIALOG });
    expect(dialog.textContent).toContain("You will not join Globex");
    expect(api.writes()).toEqual([]);
    await user.click(within(dialog).getByRole("button", { name: "Decline invitation" }));

    expect(await screen.findByText("Invitation declined")).toBeTruthy();
    await waitFor(() => expect(screen.queryByRole("region", { name: "Invitations" })).toBeNull());
    expect(api.writes().map((r) => r.path)).toEqual(["/api/invitations/inv-a/reject"]);
  });

  it("sends nothing when the decline is cancelled", async () => {
    const api = invited();
    renderPage(<InvitationsBanner />);
    const user = userEvent.setup();
    const banner = await screen.findByRole("region", { name: "Invitations" });

    await user.click(within(banner).getByRole("button", { name: "Decline" }));
    await user.click(
      within(await screen.findByRole("dialog", { name: DIALOG })).getByRole("button", { name: "Cancel" }),
    );

    await waitFor(() => expect(screen.queryByRole("dialog", { name: DIALOG })).toBeNull());
    expect(screen.getByRole("region", { name: "Invitations" })).toBeTruthy();
    expect(api.writes()).toEqual([]);
  });

  it("asks first on the invitation link's page too", async () => {
    const api = invited();
    renderPage(<InvitationPage id="inv-a" />, { path: "/invitations/inv-a" });
    const user = userEvent.setup();

    await user.click(await screen.findByRole("button", { name: "Decline" }));
    expect(api.writes()).toEqual([]);
    await user.click(
      within(await screen.findByRole("dialog", { name: DIALOG })).getByRole("button", {
        name: "Decline invitation",
      }),
    );

    expect(await screen.findByText("Invitation declined")).toBeTruthy();
    expect(api.writes().map((r) => r.path)).toEqual(["/api/invitations/inv-a/reject"]);
  });
});
