import { describe, expect, it } from "vitest";
import { openTestDatabase, testDatabaseKinds } from "../../test/db";
import { openDatabase, ping, poolStatsOf } from "./client";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.runIf(testDatabaseKinds().includes("postgres"))("the PostgreSQL pool", () => {
  it("keeps an idle connection for as long as it is told, then closes it", async () => {
    const test = await openTestDatabase("postgres");
    const url = test.url as string;
    const kept = await openDatabase({ kind: "postgres", url, poolSize: 3 });
    const brief = await openDatabase({ kind: "postgres", url, poolSize: 3, poolIdleSeconds: 1 });
    try {
      await Promise.all([ping(kept.db), ping(brief.db)]);
      expect(poolStatsOf(brief)?.()).toMatchObject({ max: 3, size: 1, idle: 1 });
      await sleep(1500);
      // Past a second idle the short-lived pool has closed its connection; the default keeps it.
      expect(poolStatsOf(brief)?.()).toMatchObject({ size: 0 });
      expect(poolStatsOf(kept)?.()).toMatchObject({ size: 1, idle: 1 });
      await ping(brief.db);
      expect(poolStatsOf(brief)?.()).toMatchObject({ size: 1 });
    } finally {
      await Promise.all([kept.close(), brief.close()]);
      await test.close();
    }
  });
});
