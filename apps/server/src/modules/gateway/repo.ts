import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { preparedPerDb } from "../../db/prepared";
import { mcpServers, organization } from "../../db/schema";

const columns = {
  id: mcpServers.id,
  tenantId: mcpServers.tenantId,
  name: mcpServers.name,
  url: mcpServers.url,
  transport: mcpServers.transport,
  headers: mcpServers.headers,
  enabled: mcpServers.enabled,
  needsConfiguration: mcpServers.needsConfiguration,
  tools: mcpServers.tools,
  pinnedTools: mcpServers.pinnedTools,
};

// Every gateway call that misses the instance's cache runs this: built once, planned once per connection.
const byOrgAndName = preparedPerDb(
  () => "",
  (db) =>
    db
      .select(columns)
      .from(mcpServers)
      .innerJoin(organization, eq(organization.id, mcpServers.tenantId))
      .where(
        and(eq(organization.slug, sql.placeholder("slug")), eq(mcpServers.name, sql.placeholder("name"))),
      )
      .limit(1)
      .prepare("gateway_server"),
);

export type GatewayServerRow = Awaited<ReturnType<ReturnType<typeof byOrgAndName>["execute"]>>[number];

/** The server named `name` in the organization whose slug is `slug`, as the gateway needs it. */
export async function findGatewayServer(
  db: Db,
  slug: string,
  name: string,
): Promise<GatewayServerRow | null> {
  const [row] = await byOrgAndName(db, undefined).execute({ slug, name });
  return row ?? null;
}
