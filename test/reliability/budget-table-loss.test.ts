import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import type { UserAttr } from '../../lib/core/rules/types.ts';
import { createTable } from '../../local/local-tables.ts';
import { apiEvent, lambdaContext, makeUsers } from '../helpers/factories.ts';
import { useStack } from '../helpers/use-stack.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The worker fleet's floor in this test, calls/s in all (handed round the lanes in 50 ms slots). */
const FLOOR_RATE = 20;
const ENV = {
  WORKER_FLOOR_RATE: String(FLOOR_RATE),
  WORKER_MAX_CONCURRENCY: '2',
  ATTR_NAMES: 'sex,city,tier,lang',
} as const;
const OUTAGE_MS = 4000;

/** The users whose attributes in IM are not exactly the ones sent. */
const missing = (attrs: ReadonlyMap<string, unknown>, users: readonly UserAttr[]): string[] =>
  users.filter((u) => JSON.stringify(attrs.get(u.To_Account)) !== JSON.stringify(u.Attrs)).map((u) => u.To_Account);

describe('the budget table goes away mid-run', () => {
  const stack = useStack({ env: ENV });

  it(
    'loses nothing, keeps IM within its limit, runs on the floor meanwhile and on the grid again after',
    { timeout: 120_000 },
    async () => {
      // Prepare: 30,000 users, 300 calls: ~4 s at the grid's pace, far longer on the fleet's floor of 20 calls/s
      const budgetTable = stack.budgetTableName;
      const webhooks = [0, 1, 2].map((i) => makeUsers(10_000, `table-loss-${i}`));
      const setCalls = () => stack.emulator.counters.callsByCommand.get('im_set_attr') ?? 0;
      const workers = stack.startWorkers({ concurrency: 2 });

      // Act: the webhooks arrive; once IM calls flow, the table is deleted, and created again 4 s later
      const { api } = stack.copy();
      const answers = await Promise.all(
        webhooks.map((users) => api(apiEvent(JSON.stringify({ UserAttrs: users })), lambdaContext())),
      );
      while (setCalls() < 40) await sleep(5);
      await stack.dynamodb.send(new DeleteTableCommand({ TableName: budgetTable }));
      // Leases already granted run out within a lease's span; the outage is measured after that.
      await sleep(500);
      const outageStart = setCalls();
      await sleep(OUTAGE_MS - 500);
      const duringOutage = setCalls() - outageStart;
      await createTable(stack.dynamodb, budgetTable);
      const all = webhooks.flat();
      const until = Date.now() + 90_000;
      while (missing(stack.emulator.attrs, all).length > 0 && Date.now() < until) await sleep(100);
      await workers.stop();

      // Assess
      expect(answers.map((a) => a.statusCode)).toEqual([202, 202, 202]);
      expect(missing(stack.emulator.attrs, all)).toEqual([]);
      expect(await stack.takeAll(stack.dlqUrl)).toEqual([]);
      expect(stack.emulator.counters.maxCallsInAnyWindow).toBeLessThanOrEqual(100);
      expect(stack.emulator.counters.rejectedByCode.get(60007) ?? 0).toBe(0);
      // Both worker copies on the fleet's floor for 3.5 s: at most 70 calls in all, not the grid's ~270.
      expect(duringOutage).toBeLessThanOrEqual(Math.ceil(((OUTAGE_MS - 500) / 1000) * FLOOR_RATE) + 3);
      expect(duringOutage).toBeGreaterThan(0);
    },
  );
});
