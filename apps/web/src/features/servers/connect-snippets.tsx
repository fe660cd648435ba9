import type { Server, Transport } from "@switchboard/shared";
import toast from "react-hot-toast/headless";
import { Button } from "../../components/ui";
import { useSession } from "../session/session";

/** A server's address on the gateway: its organization's slug and its name, on Switchboard's origin. */
export function gatewayUrl(origin: string, orgSlug: string, serverName: string, transport: Transport) {
  const path = transport === "sse" ? "sse" : "mcp";
  return `${origin}/gateway/${encodeURIComponent(orgSlug)}/${encodeURIComponent(serverName)}/${path}`;
}

/** Copies `text`, and says in a toast whether that worked. */
export async function copyText(text: string, what: string) {
  try {
    await navigator.clipboard.writeText(text);
    toast.success(`Copied ${what}`);
  } catch {
    toast.error(`Could not copy ${what}: select it and copy it by hand`);
  }
}

/** A server's gateway URL on this dashboard's origin; null until the active organization is known. */
export function useGatewayUrl(server: Pick<Server, "name" | "transport">): string | null {
  const { activeOrganization } = useSession();
  if (!activeOrganization) return null;
  return gatewayUrl(window.location.origin, activeOrganization.slug, server.name, server.transport);
}

/** The gateway URL of a server's page, with a copy button. */
export function GatewayUrl({ server }: { server: Pick<Server, "name" | "transport"> }) {
  const url = useGatewayUrl(server);
  if (!url) return <span>—</span>;
  return (
    <span className="flex flex-wrap items-center gap-2">
      <code data-testid="gateway-url" className="break-all">
        {url}
      </code>
      <Button
        variant="secondary"
        className="px-2 py-1 text-xs"
        onClick={() => copyText(url, "the gateway URL")}
      >
        Copy gateway URL
      </Button>
    </span>
  );
}

export interface ClientSetUp {
  id: "claude" | "vscode" | "cursor" | "curl";
  title: string;
  /** Where the set-up goes (a file), or what it does. */
  where?: string;
  text: string;
}

/**
 * Ready-to-paste set-ups of the common MCP clients for one server through the gateway, with the key
 * filled in. Key and URL hold only URL-safe characters, so they need no quoting beyond what is here.
 */
export function clientSetUps({
  name,
  url,
  transport,
  apiKey,
}: {
  name: string;
  url: string;
  transport: Transport;
  apiKey: string;
}): ClientSetUp[] {
  const authorization = `Bearer ${apiKey}`;
  const sse = transport === "sse";
  const json = (value: unknown) => JSON.stringify(value, null, 2);
  return [
    {
      id: "claude",
      title: "Claude Code",
      text: `claude mcp add --transport ${sse ? "sse" : "http"} ${name} ${url} --header "Authorization: ${authorization}"`,
    },
    {
      id: "vscode",
      title: "VS Code",
      where: ".vscode/mcp.json",
      text: json({
        servers: { [name]: { type: sse ? "sse" : "http", url, headers: { Authorization: authorization } } },
      }),
    },
    {
      id: "cursor",
      title: "Cursor",
      where: "~/.cursor/mcp.json",
      text: json({ mcpServers: { [name]: { url, headers: { Authorization: authorization } } } }),
    },
    sse
      ? {
          id: "curl",
          title: "curl",
          where: "opens the event stream; its endpoint event names where to POST messages",
          text: `curl -N '${url}' \\\n  -H 'Authorization: ${authorization}' \\\n  -H 'accept: text/event-stream'`,
        }
      : {
          id: "curl",
          title: "curl",
          where: "the initialize handshake",
          text: [
            `curl -s '${url}'`,
            `  -H 'Authorization: ${authorization}'`,
            "  -H 'content-type: application/json'",
            "  -H 'accept: application/json, text/event-stream'",
            `  -d '${JSON.stringify({
              jsonrpc: "2.0",
              id: 1,
              method: "initialize",
              params: {
                protocolVersion: "2025-11-25",
                capabilities: {},
                clientInfo: { name: "curl", version: "1" },
              },
            })}'`,
          ].join(" \\\n"),
        },
  ];
}

/** The set-ups of `clientSetUps`, each with a copy button. */
export function ConnectSnippets(props: Parameters<typeof clientSetUps>[0]) {
  return (
    <div className="space-y-3">
      {clientSetUps(props).map((s) => (
        <section key={s.id} aria-label={`${s.title} set-up`}>
          <div className="mb-1 flex items-center justify-between gap-2">
            <h4 className="text-sm font-medium">
              {s.title}
              {s.where && <span className="text-xs font-normal"> · {s.where}</span>}
            </h4>
            <Button
              variant="secondary"
              className="px-2 py-1 text-xs"
              aria-label={`Copy the ${s.title} set-up`}
              onClick={() => copyText(s.text, `the ${s.title} set-up`)}
            >
              Copy
            </Button>
          </div>
          <pre
            data-testid={`snippet-${s.id}`}
            className="whitespace-pre-wrap break-all rounded bg-slate-900/5 p-2 text-xs dark:bg-white/10"
          >
            {s.text}
          </pre>
        </section>
      ))}
    </div>
  );
}
