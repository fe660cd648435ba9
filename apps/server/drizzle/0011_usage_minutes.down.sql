DROP TABLE "mcp_usage_minutes";
