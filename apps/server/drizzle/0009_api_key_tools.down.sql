ALTER TABLE "mcp_api_keys" DROP COLUMN "tools";
