import { act, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import toast from "react-hot-toast/headless";
import { beforeAll, describe, expect, it } from "vitest";
import { renderPage } from "../test/harness";
import { Button, Dialog } from "./ui";

/** Two dialogs, the second opened from the first, as a confirmation would be. */
function Dialogs() {
  const [first, setFirst] = useState(true);
  const [second, setSecond] = useState(false);
  return (
    <>
      <Dialog open={first} onClose={() => setFirst(false)} title="First">
        <Button onClick={() => setSecond(true)}>Open the second</Button>
        <Button onClick={() => setFirst(false)}>Close the first</Button>
      </Dialog>
      <Dialog open={second} onClose={() => setSecond(false)} title="Second">
        <Button onClick={() => setSecond(false)}>Close the second</Button>
      </Dialog>
    </>
  );
}

const raise = (message: string) => act(() => void toast.error(message));
const toastOf = (message: string) => screen.getByText(message).closest("[data-toast]");

describe("Toaster", () => {
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

  it("shows a toast inside the topmost open dialog, where the modal leaves it readable", async () => {
    renderPage(<Dialogs />);
    const user = userEvent.setup();
    const first = screen.getByRole("dialog", { name: "First" });
    raise("Expiry is in the past");
    expect(first.contains(toastOf("Expiry is in the past"))).toBe(true);

    await user.click(screen.getByRole("button", { name: "Open the second" }));
    const second = screen.getByRole("dialog", { name: "Second" });
    expect(second.contains(toastOf("Expiry is in the past"))).toBe(true);

    await user.click(screen.getByRole("button", { name: "Close the second" }));
    await waitFor(() => expect(first.contains(toastOf("Expiry is in the past"))).toBe(true));
  });

  it("shows toasts on the page again once no dialog is open", async () => {
    renderPage(<Dialogs />);
    await userEvent.setup().click(screen.getByRole("button", { name: "Close the first" }));
    raise("Copied the key");

    const shown = toastOf("Copied the key");
    expect(shown).not.toBeNull();
    expect(shown?.closest("dialog")).toBeNull();
  });
});
