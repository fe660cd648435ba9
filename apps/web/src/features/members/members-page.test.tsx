import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeAll, describe, expect, it } from "vitest";
import { fakeApi, renderPage } from "../../test/harness";
import { MembersPage } from "./members-page";

interface Invitation {
  id: string;
  email: string;
  role: string;
  status: string;
}

/** An organization whose invitations are kept as the server would keep them. */
function organization(invitations: Invitation[] = []) {
  return fakeApi({
    "GET /api/auth/organization/get-full-organization": () => ({
      body: {
        id: "org-1",
        members: [
          { id: "m-1", role: "owner", user: { id: "user-1", email: "ada@example.com", name: "Ada" } },
          { id: "m-2", role: "member", user: { id: "user-2", email: "bob@example.com", name: "Bob" } },
        ],
        invitations,
      },
    }),
    "POST /api/auth/organization/update-member-role": (req) => ({ body: req.body }),
    "POST /api/auth/organization/cancel-invitation": (req) => {
      const { invitationId } = req.body as { invitationId: string };
      const invitation = invitations.find((i) => i.id === invitationId);
      if (invitation) invitation.status = "canceled";
      return { body: invitation };
    },
    "POST /api/auth/organization/invite-member": (req) => {
      const { email, role } = req.body as { email: string; role: string };
      const invitation = { id: `inv-${invitations.length + 1}`, email, role, status: "pending" };
      invitations.push(invitation);
      return { body: { ...invitation, organizationId: "org-1" } };
    },
  });
}

const ROLE_DIALOG = "Change this member's role?";

const linkOf = (email: string) => document.querySelector(`[data-invitation-link="${email}"]`)?.textContent;

describe("MembersPage", () => {
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

  it("shows each pending invitation's link to hand over, and none for an answered one", async () => {
    organization([
      { id: "inv-a", email: "bob@example.com", role: "admin", status: "pending" },
      { id: "inv-b", email: "eve@example.com", role: "member", status: "accepted" },
    ]);
    renderPage(<MembersPage />, { path: "/members" });

    await waitFor(() =>
      expect(linkOf("bob@example.com")).toBe(`${window.location.origin}/invitations/inv-a`),
    );
    expect(linkOf("eve@example.com")).toBeUndefined();
  });

  it("shows the link of an invitation as soon as it is sent", async () => {
    const api = organization();
    renderPage(<MembersPage />, { path: "/members" });
    const user = userEvent.setup();
    // Once the session names the active organization, the page is the one that stays.
    await screen.findByText("Members of Acme");
    await user.type(await screen.findByLabelText("Email"), "carol@example.com");
    await user.click(screen.getByRole("button", { name: "Send invitation" }));

    await waitFor(() =>
      expect(linkOf("carol@example.com")).toBe(`${window.location.origin}/invitations/inv-1`),
    );
    expect(api.writes()).toEqual([
      expect.objectContaining({
        path: "/api/auth/organization/invite-member",
        body: { email: "carol@example.com", role: "member" },
      }),
    ]);
    expect(
      await screen.findByText("Invited carol@example.com: their link is under Pending invitations"),
    ).toBeTruthy();
  });

  it("asks before changing a role, naming the member and the new role, and applies it once confirmed", async () => {
    const api = organization();
    renderPage(<MembersPage />, { path: "/members" });
    const user = userEvent.setup();
    await screen.findByText("Members of Acme");
    const select = (await screen.findByLabelText("Role of bob@example.com")) as HTMLSelectElement;

    await user.selectOptions(select, "admin");
    const dialog = await screen.findByRole("dialog", { name: ROLE_DIALOG });
    expect(dialog.textContent).toContain("Bob becomes admin");
    expect(api.writes()).toEqual([]);

    await user.click(within(dialog).getByRole("button", { name: "Make admin" }));
    await waitFor(() =>
      expect(api.writes()).toEqual([
        expect.objectContaining({
          path: "/api/auth/organization/update-member-role",
          body: { memberId: "m-2", role: "admin" },
        }),
      ]),
    );
    expect(await screen.findByText("Bob is now admin")).toBeTruthy();
  });

  it("leaves the role as it was when the change is cancelled", async () => {
    const api = organization();
    renderPage(<MembersPage />, { path: "/members" });
    const user = userEvent.setup();
    await screen.findByText("Members of Acme");
    const select = (await screen.findByLabelText("Role of bob@example.com")) as HTMLSelectElement;

    await user.selectOptions(select, "admin");
    await user.click(
      within(await screen.findByRole("dialog", { name: ROLE_DIALOG })).getByRole("button", {
        name: "Cancel",
      }),
    );

    await waitFor(() => expect(screen.queryByRole("dialog", { name: ROLE_DIALOG })).toBeNull());
    expect(select.value).toBe("member");
    expect(api.writes()).toEqual([]);

    // Asked again, it asks again.
    await user.selectOptions(select, "admin");
    expect((await screen.findByRole("dialog", { name: ROLE_DIALOG })).textContent).toContain(
      "Bob becomes admin",
    );
  });

  it("withdraws a pending invitation once confirmed, and its link goes from the list", async () => {
    const api = organization([{ id: "inv-a", email: "carol@example.com", role: "admin", status: "pending" }]);
    renderPage(<MembersPage />, { path: "/members" });
    const user = userEvent.setup();
    await screen.findByText("Members of Acme");

    await user.click(
      await screen.findByRole("button", { name: "Withdraw the invitation to carol@example.com" }),
    );
    const dialog = await screen.findByRole("dialog", { name: "Withdraw this invitation?" });
    expect(dialog.textContent).toContain("carol@example.com");
    expect(api.writes()).toEqual([]);
    await user.click(within(dialog).getByRole("button", { name: "Withdraw invitation" }));

    expect(
      await screen.findByText("Invitation to carol@example.com withdrawn: its link no longer works"),
    ).toBeTruthy();
    await waitFor(() => expect(linkOf("carol@example.com")).toBeUndefined());
    expect(api.writes()).toEqual([
      expect.objectContaining({
        path: "/api/auth/organization/cancel-invitation",
        body: { invitationId: "inv-a" },
      }),
    ]);
  });
});
