import { CreateServerInput, MAX_TAGS, type Server, UpdateServerInput } from "@switchboard/shared";
import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it } from "vitest";
import { fakeApi, fieldError, renderPage, type SentRequest, serverFixture } from "../../test/harness";
import { ServerForm } from "./server-form";

type User = ReturnType<typeof userEvent.setup>;

/** Replaces a field's text the way a person pasting it would, control characters included. */
async function fill(user: User, label: string | RegExp, text: string) {
  const input = screen.getByLabelText(label);
  await user.clear(input);
  if (text) {
    await user.click(input);
    await user.paste(text);
  }
}

async function fillRequired(user: User) {
  await fill(user, /^Name$/, "weather");
  await fill(user, "URL", "https://mcp.example.com/mcp");
}

async function addHeader(user: User, name: string, value: string) {
  await user.click(screen.getByRole("button", { name: "Add header" }));
  const n = screen.getAllByLabelText(/^Header \d+ name$/).length;
  await fill(user, `Header ${n} name`, name);
  await fill(user, `Header ${n} value`, value);
}

const registering = () => {
  const api = fakeApi({
    "POST /mcp/servers": () => ({ status: 201, body: serverFixture() }),
  });
  const view = renderPage(<ServerForm />, { path: "/servers/new" });
  return { api, view, user: userEvent.setup() };
};

const bodyOf = (req: SentRequest | undefined) => req?.body as Record<string, unknown>;

/** What the form refuses, how a user enters it, and the error shown under its field. */
const REFUSED = [
  {
    refused: "a display name with a control character",
    field: "displayName",
    enter: (user: User) => fill(user, "Display name", "Weather\u0007"),
    error: "must not contain control characters",
  },
  {
    refused: "a description with a control character other than a line break",
    field: "description",
    enter: (user: User) => fill(user, "Description (Markdown)", "Line one\nbell\u0007"),
    error: "must not contain control characters",
  },
  {
    refused: `${MAX_TAGS + 1} tags`,
    field: "tagsText",
    enter: (user: User) =>
      fill(user, "Tags", Array.from({ length: MAX_TAGS + 1 }, (_, i) => `t${i}`).join(", ")),
    error: `at most ${MAX_TAGS} tags`,
  },
  {
    refused: "a tag with a space in it",
    field: "tagsText",
    enter: (user: User) => fill(user, "Tags", "prod, team a"),
    error: `"team a" must be lowercase letters, digits, '.', '_' or '-'`,
  },
  {
    refused: "a check interval under 10 seconds",
    field: "checkIntervalSeconds",
    enter: (user: User) => fill(user, "Check every (seconds)", "5"),
    error: "must be at least 10 seconds",
  },
  {
    refused: "a check interval over a day",
    field: "checkIntervalSeconds",
    enter: (user: User) => fill(user, "Check every (seconds)", "86401"),
    error: "must be at most 1 day",
  },
  {
    refused: "an empty check interval",
    field: "checkIntervalSeconds",
    enter: (user: User) => fill(user, "Check every (seconds)", ""),
    error: "Enter a number of seconds",
  },
  {
    refused: "a URL that is not http(s)",
    field: "url",
    enter: (user: User) => fill(user, "URL", "ftp://mcp.example.com/mcp"),
    error: "must be an absolute http:// or https:// URL",
  },
  {
    refused: "a header value with a control character",
    field: "headers.0.value",
    enter: (user: User) => addHeader(user, "Authorization", "Bearer a\u0000b"),
    error: "must not contain control characters",
  },
  {
    refused: "a new header without a value",
    field: "headers.0.value",
    enter: (user: User) => addHeader(user, "Authorization", ""),
    error: "must not be empty",
  },
  {
    refused: "a header Switchboard sets itself",
    field: "headers.0.name",
    enter: (user: User) => addHeader(user, "Host", "example.com"),
    error: "is set by Switchboard and cannot be overridden",
  },
];

describe("ServerForm, registering a server", () => {
  it.each(REFUSED.map((c) => [c.refused, c] as const))(
    "refuses %s, with the reason under its field, and sends nothing",
    async (_, { field, enter, error }) => {
      const { api, user } = registering();
      await fillRequired(user);
      await enter(user);
      await user.click(screen.getByRole("button", { name: "Register server" }));

      await waitFor(() => expect(fieldError(field)).toBe(error));
      expect(api.writes()).toEqual([]);
    },
  );

  it("refuses the same header name twice, whatever its case, and sends nothing", async () => {
    const { api, user } = registering();
    await fillRequired(user);
    await addHeader(user, "X-Team", "a");
    await addHeader(user, "x-team", "b");
    await user.click(screen.getByRole("button", { name: "Register server" }));

    await waitFor(() => expect(fieldError("headers")).toBe("must not repeat a header name"));
    expect(api.writes()).toEqual([]);
  });

  it("sends exactly the body the API accepts, opens the new server, and asks for its first check now", async () => {
    const { api, view, user } = registering();
    await fillRequired(user);
    await fill(user, "Display name", "  Weather  ");
    await fill(user, "Description (Markdown)", "Forecasts for **every** city.\n\n\tIndented.");
    await fill(user, "Tags", "Prod, team-a,, prod ");
    await fill(user, "Check every (seconds)", "120");
    await user.selectOptions(screen.getByLabelText("Transport"), "sse");
    await addHeader(user, "Authorization", "Bearer s3cret");
    await user.click(screen.getByRole("button", { name: "Register server" }));

    await waitFor(() => expect(api.writes()).toHaveLength(2));
    const [post, check] = api.writes();
    expect(post?.path).toBe("/mcp/servers");
    expect(check?.path).toBe(`/mcp/servers/${serverFixture().id}/check`);
    expect(post?.body).toEqual({
      name: "weather",
      displayName: "Weather",
      description: "Forecasts for **every** city.\n\n\tIndented.",
      transport: "sse",
      url: "https://mcp.example.com/mcp",
      tags: ["prod", "team-a"],
      checkIntervalSeconds: 120,
      enabled: true,
      headers: [{ name: "Authorization", value: "Bearer s3cret" }],
      registryName: null,
      title: null,
      websiteUrl: null,
      releaseVersion: null,
      repository: null,
      declaredHeaders: [],
    });
    expect(CreateServerInput.parse(post?.body)).toEqual(post?.body);
    await waitFor(() => expect(view.history.at(-1)).toBe(`/servers/${serverFixture().id}`));
    expect(await screen.findByText("Registered Weather")).toBeTruthy();
  });

  it("sends the registry fields and declared headers, as server.json describes a server", async () => {
    const { api, user } = registering();
    await fillRequired(user);
    await fill(user, "Registry name", "com.acme/weather");
    await fill(user, "Title", "Weather API");
    await fill(user, "Release version", "2.1.0");
    await fill(user, "Website", "https://weather.example.com");
    await fill(user, "Repository URL", "https://github.com/acme/weather");
    await fill(user, "Repository source", "github");
    await user.click(screen.getByRole("button", { name: "Declare a header" }));
    await fill(user, "Declared header 1 name", "X-Api-Key");
    await fill(user, "Declared header 1 description", "Your key");
    await user.click(screen.getByRole("button", { name: "Register server" }));

    await waitFor(() => expect(api.writes().length).toBeGreaterThan(0));
    const body = bodyOf(api.writes()[0]);
    expect(body).toMatchObject({
      registryName: "com.acme/weather",
      title: "Weather API",
      releaseVersion: "2.1.0",
      websiteUrl: "https://weather.example.com",
      repository: { url: "https://github.com/acme/weather", source: "github" },
      declaredHeaders: [{ name: "X-Api-Key", description: "Your key", isRequired: true, isSecret: true }],
    });
    expect(CreateServerInput.parse(body)).toEqual(body);
  });

  it("refuses a registry name that is not namespace/name, and a repository without its source, sending nothing", async () => {
    const { api, user } = registering();
    await fillRequired(user);
    await fill(user, "Registry name", "weather");
    await fill(user, "Repository URL", "https://github.com/acme/weather");
    await user.click(screen.getByRole("button", { name: "Register server" }));

    await waitFor(() => expect(fieldError("registryName")).toContain("namespace/name"));
    // The repository is checked as a whole once every field is valid.
    await fill(user, "Registry name", "com.acme/weather");
    await user.click(screen.getByRole("button", { name: "Register server" }));
    await waitFor(() => expect(fieldError("repositorySource")).toBe("must not be empty (e.g. github)"));
    expect(api.writes()).toHaveLength(0);
  });

  it("leaves out a blank display name, so the server is named after its name", async () => {
    const { api, user } = registering();
    await fillRequired(user);
    await fill(user, "Display name", "   ");
    await user.click(screen.getByRole("button", { name: "Register server" }));

    await waitFor(() => expect(api.writes().length).toBeGreaterThan(0));
    const body = bodyOf(api.writes()[0]);
    expect(body).not.toHaveProperty("displayName");
    expect(CreateServerInput.parse(body)).toEqual(body);
  });

  it("shows the API's field errors under the fields they name, tags included", async () => {
    fakeApi({
      "POST /mcp/servers": () => ({
        status: 400,
        body: {
          status: 400,
          code: "VALIDATION",
          detail: "Invalid request",
          issues: [
            { path: "body.name", message: "is already taken in this organization" },
            { path: "body.tags.1", message: "is reserved" },
          ],
        },
      }),
    });
    renderPage(<ServerForm />, { path: "/servers/new" });
    const user = userEvent.setup();
    await fillRequired(user);
    await fill(user, "Tags", "prod, internal");
    await user.click(screen.getByRole("button", { name: "Register server" }));

    await waitFor(() => expect(fieldError("name")).toBe("is already taken in this organization"));
    expect(fieldError("tagsText")).toBe("is reserved");
    expect(await screen.findByText("Invalid request")).toBeTruthy();
  });

  it("tests the connection with the unsaved URL, transport and headers", async () => {
    const api = fakeApi({
      "POST /mcp/probe": () => ({
        body: {
          status: "healthy",
          latencyMs: 42,
          error: null,
          checkedAt: "2026-01-01T00:00:00.000Z",
          serverInfo: { name: "weather", version: "1.0.0", protocolVersion: "2025-11-25", capabilities: {} },
          tools: [{ name: "forecast", description: null }],
        },
      }),
    });
    renderPage(<ServerForm />, { path: "/servers/new" });
    const user = userEvent.setup();
    await fill(user, "URL", "https://mcp.example.com/mcp");
    await addHeader(user, "Authorization", "Bearer s3cret");
    await user.click(screen.getByRole("button", { name: "Test connection" }));

    expect(await screen.findByText("Connected: 1 tools in 42 ms")).toBeTruthy();
    expect(api.writes().map((r) => [r.path, r.body])).toEqual([
      [
        "/mcp/probe",
        {
          url: "https://mcp.example.com/mcp",
          transport: "streamable-http",
          headers: [{ name: "Authorization", value: "Bearer s3cret" }],
        },
      ],
    ]);
  });
});

describe("ServerForm, editing a server", () => {
  const stored = serverFixture({
    description: "Forecasts.",
    tags: ["prod"],
    headers: [{ name: "Authorization", value: "••••••••" }],
    version: 7,
  });

  const editing = (reply: () => { status?: number; body?: unknown } = () => ({ body: stored })) => {
    const api = fakeApi({ [`PATCH /mcp/servers/${stored.id}`]: reply });
    renderPage(<ServerForm server={stored} />, { path: `/servers/${stored.id}/edit` });
    return { api, user: userEvent.setup() };
  };

  it("keeps a saved header's value by sending the header without one, on the version it read", async () => {
    const { api, user } = editing();
    await fill(user, "Description (Markdown)", "Forecasts, hourly.");
    await user.click(screen.getByRole("button", { name: "Save changes" }));

    await waitFor(() => expect(api.writes()).toHaveLength(1));
    const [patch] = api.writes();
    expect(patch?.headers.get("if-match")).toBe("7");
    expect(patch?.body).toEqual({
      name: "weather",
      displayName: "Weather",
      description: "Forecasts, hourly.",
      transport: "streamable-http",
      url: "https://mcp.example.com/mcp",
      tags: ["prod"],
      checkIntervalSeconds: 60,
      enabled: true,
      headers: [{ name: "Authorization" }],
      registryName: null,
      title: null,
      websiteUrl: null,
      releaseVersion: null,
      repository: null,
      declaredHeaders: [],
    });
    expect(UpdateServerInput.parse(patch?.body)).toEqual(patch?.body);
  });

  it("sends a saved header's new value when one is typed", async () => {
    const { api, user } = editing();
    await fill(user, "Header 1 value", "Bearer rotated");
    await user.click(screen.getByRole("button", { name: "Save changes" }));

    await waitFor(() => expect(api.writes()).toHaveLength(1));
    expect(bodyOf(api.writes()[0]).headers).toEqual([{ name: "Authorization", value: "Bearer rotated" }]);
  });

  it("asks for a value for a header added while editing, and sends nothing", async () => {
    const { api, user } = editing();
    await addHeader(user, "X-Team", "");
    await user.click(screen.getByRole("button", { name: "Save changes" }));

    await waitFor(() => expect(fieldError("headers.1.value")).toBe("must not be empty"));
    expect(fieldError("headers.0.value")).toBeNull();
    expect(api.writes()).toEqual([]);
  });

  it("sends a cleared display name as the name, since leaving it out would keep the old one", async () => {
    const { api, user } = editing();
    await fill(user, "Display name", "");
    await user.click(screen.getByRole("button", { name: "Save changes" }));

    await waitFor(() => expect(api.writes()).toHaveLength(1));
    expect(bodyOf(api.writes()[0]).displayName).toBe("weather");
  });

  it("saves on the version it opened with, however often live updates refresh the server", async () => {
    const api = fakeApi({ [`PATCH /mcp/servers/${stored.id}`]: () => ({ body: stored }) });
    let refresh: (s: Server) => void = () => {};
    function LiveForm() {
      const [server, setServer] = useState(stored);
      refresh = setServer;
      return <ServerForm server={server} />;
    }
    renderPage(<LiveForm />, { path: `/servers/${stored.id}/edit` });
    const user = userEvent.setup();
    await fill(user, "Display name", "Mine");
    act(() => refresh({ ...stored, description: "Theirs", version: 8 }));
    await user.click(screen.getByRole("button", { name: "Save changes" }));

    await waitFor(() => expect(api.writes()).toHaveLength(1));
    expect(api.writes()[0]?.headers.get("if-match")).toBe("7");
  });

  describe("when someone else changed the server meanwhile (412)", () => {
    const theirs = { ...stored, description: "Changed by a teammate", tags: ["prod", "eu"], version: 8 };
    const conflicted = () => {
      let patches = 0;
      const api = fakeApi({
        [`PATCH /mcp/servers/${stored.id}`]: () =>
          ++patches === 1
            ? { status: 412, body: { status: 412, code: "PRECONDITION_FAILED", detail: "changed" } }
            : { body: { ...theirs, version: 9 } },
        [`GET /mcp/servers/${stored.id}`]: () => ({ body: theirs }),
      });
      renderPage(<ServerForm server={stored} />, { path: `/servers/${stored.id}/edit` });
      return { api, user: userEvent.setup() };
    };
    const changedRows = (panel: HTMLElement) =>
      within(panel)
        .getAllByRole("row")
        .slice(1)
        .map((r) => [...r.children].map((c) => c.textContent));

    it("lists each field they changed, as it was and as it is now, and saves nothing", async () => {
      const { api, user } = conflicted();
      await fill(user, "Display name", "Mine");
      await user.click(screen.getByRole("button", { name: "Save changes" }));

      const panel = await screen.findByRole("alert", {
        name: "Someone changed this server since you opened it",
      });
      expect(changedRows(panel)).toEqual([
        ["Description", "Forecasts.", "Changed by a teammate"],
        ["Tags", "prod", "prod, eu"],
      ]);
      expect(api.writes()).toHaveLength(1);
      expect((screen.getByLabelText("Display name") as HTMLInputElement).value).toBe("Mine");
    });

    it("overwrites theirs with mine only when asked, on their version", async () => {
      const { api, user } = conflicted();
      await fill(user, "Display name", "Mine");
      await user.click(screen.getByRole("button", { name: "Save changes" }));
      await user.click(await screen.findByRole("button", { name: "Overwrite with mine" }));

      await waitFor(() => expect(api.writes()).toHaveLength(2));
      const overwrite = api.writes()[1];
      expect(overwrite?.headers.get("if-match")).toBe("8");
      expect(bodyOf(overwrite)).toMatchObject({
        displayName: "Mine",
        description: "Forecasts.",
        tags: ["prod"],
      });
    });

    it("reloads their version into the form, and then saves on it", async () => {
      const { api, user } = conflicted();
      await fill(user, "Display name", "Mine");
      await user.click(screen.getByRole("button", { name: "Save changes" }));
      await user.click(await screen.findByRole("button", { name: "Reload their version" }));

      expect(screen.queryByRole("alert")).toBeNull();
      expect((screen.getByLabelText("Description (Markdown)") as HTMLTextAreaElement).value).toBe(
        "Changed by a teammate",
      );
      expect((screen.getByLabelText("Display name") as HTMLInputElement).value).toBe("Weather");
      await user.click(screen.getByRole("button", { name: "Save changes" }));

      await waitFor(() => expect(api.writes()).toHaveLength(2));
      expect(api.writes()[1]?.headers.get("if-match")).toBe("8");
      expect(bodyOf(api.writes()[1])).toMatchObject({
        description: "Changed by a teammate",
        tags: ["prod", "eu"],
      });
    });
  });
});
