import { parseArgs } from "node:util";
import { loadProbeConfig } from "../config";
import { createProber, type ProbeResult } from "../modules/health/probe";
import { createUpstreamDispatcher } from "../modules/upstream/dispatcher";

export const PROBE_USAGE = `Usage: switchboard probe <url> [--transport streamable-http|sse] [--header 'Name: value']… [--json]

  Runs exactly the health probe Switchboard runs, once, and prints its verdict: status, protocol era
  and version, the server's name and version, its tools, prompts and resources. Exit code 0 when
  healthy, 1 when degraded or auth_required, 2 when unhealthy. PROBE_TIMEOUT_MS, PROBE_DEGRADED_MS and
  PROBE_MAX_BYTES apply as they do to the scheduler; any address may be probed (you are the one
  asking), so private and loopback targets are allowed here.
`;

const EXIT: Record<ProbeResult["status"], number> = {
  healthy: 0,
  degraded: 1,
  auth_required: 1,
  unhealthy: 2,
};

/** `Name: value` → [name, value]; null when it is not a header line. */
function header(line: string): [string, string] | null {
  const at = line.indexOf(":");
  const name = line.slice(0, at).trim();
  return at > 0 && /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name) ? [name, line.slice(at + 1).trim()] : null;
}

/** The verdict in a few lines a person reads. */
export function describe(url: string, r: ProbeResult): string {
  const lines = [`${r.status}${r.error ? ` (${r.error})` : ""} in ${r.latencyMs} ms: ${url}`];
  const info = r.serverInfo;
  if (info) {
    const era = info.era === "modern" ? "modern" : "2025 handshake";
    lines.push(`server   ${info.name ?? "?"} ${info.version ?? ""}`.trimEnd());
    lines.push(`protocol ${info.protocolVersion ?? "?"} (${era})`);
    lines.push(`tools    ${r.tools.length ? r.tools.map((t) => t.name).join(", ") : "none"}`);
    if (r.prompts.length) lines.push(`prompts  ${r.prompts.map((p) => p.name).join(", ")}`);
    if (r.resources.length) lines.push(`resources ${r.resources.map((x) => x.uri).join(", ")}`);
  }
  if (r.authChallenge) {
    const c = r.authChallenge;
    lines.push(`auth     ${c.authorizationServers.join(", ") || "no authorization server named"}`);
    if (c.scopes.length) lines.push(`scopes   ${c.scopes.join(" ")}`);
    if (c.resourceMetadataUrl) lines.push(`metadata ${c.resourceMetadataUrl}`);
  }
  return `${lines.join("\n")}\n`;
}

/** `switchboard probe …`: returns the exit code. */
export async function probeCommand(args: string[], out: (text: string) => void): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  const parse = () =>
    parseArgs({
      args,
      allowPositionals: true,
      options: {
        transport: { type: "string" },
        header: { type: "string", multiple: true },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  try {
    parsed = parse();
  } catch (err) {
    out(`${(err as Error).message}\n\n${PROBE_USAGE}`);
    return 64;
  }
  const { values, positionals } = parsed;
  // The conformance runner appends the server's URL after whatever arguments it was given.
  const url = positionals.at(-1);
  const transport = values.transport ?? "streamable-http";
  const headers = (values.header ?? []).map(header);
  if (
    values.help ||
    !url ||
    !/^https?:\/\//i.test(url) ||
    (transport !== "sse" && transport !== "streamable-http") ||
    headers.includes(null)
  ) {
    out(PROBE_USAGE);
    return values.help ? 0 : 64;
  }
  const dispatcher = createUpstreamDispatcher({ allowPrivate: true });
  try {
    const probe = createProber({ ...loadProbeConfig(), dispatcher });
    const result = await probe({
      url,
      transport,
      headers: Object.fromEntries(headers as [string, string][]),
    });
    out(values.json ? `${JSON.stringify(result, null, 2)}\n` : describe(url, result));
    return EXIT[result.status];
  } finally {
    await dispatcher.close();
  }
}
