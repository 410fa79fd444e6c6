import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiEvent, lambdaContext, makeUsers, parseBody } from '../helpers/factories.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

const OUTAGE_MS = 30_000;

describe('IM outage', () => {
  describe('down for 30 s, then back', () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await startStack({ env: { IM_RETRY_MAX_TOTAL_MS: '5000', WORKER_MAX_CONCURRENCY: '2', ATTR_NAMES: 'sex,city,tier,lang' } });
    });
    afterAll(async () => {
      await stack.close();
    });

    it('drains the queued work afterwards with nothing lost and nothing dead-lettered', { timeout: 120_000 }, async () => {
      // Prepare: every IM call fails (HTTP 502) for 30 s.
      const webhookUsers = makeUsers(2_000, 'outage-hook');
      const producerUsers = makeUsers(3_000, 'outage-producer');
      stack.emulator.setFaults({ pHttp502: 1 });
      const back = setTimeout(() => stack.emulator.setFaults({}), OUTAGE_MS);
      const started = Date.now();
      // Failed records come back after 8 s here (Lambda: the queue's visibility timeout), so the five
      // deliveries of a record span the outage.
      stack.startWorkers({ concurrency: 2, retryVisibilitySeconds: 8 });
      // Act
      const { api } = stack.copy();
      const answer = await api(apiEvent(JSON.stringify({ UserAttrs: webhookUsers })), lambdaContext());
      for (let i = 0; i < producerUsers.length; i += 1_000) await stack.send(JSON.stringify({ UserAttrs: producerUsers.slice(i, i + 1_000) }));
      await new Promise((r) => setTimeout(r, OUTAGE_MS - (Date.now() - started) + 500));
      await stack.drained(60_000);
      clearTimeout(back);
      // Assess
      expect(answer.statusCode).toBe(202);
      expect(parseBody(answer)).toMatchObject({ Applied: 0, Queued: 2_000, Rejected: 0 });
      const missing = [...webhookUsers, ...producerUsers].filter((u) => !stack.emulator.attrs.has(u.To_Account));
      expect(missing).toEqual([]);
      expect(stack.emulator.counters.http502).toBeGreaterThan(10);
      expect(await stack.takeAll(stack.dlqUrl)).toEqual([]);
    });
  });

  describe('down for longer than the deliveries allow', () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await startStack({ maxReceiveCount: 2, env: { IM_RETRY_MAX_ATTEMPTS: '1', ATTR_NAMES: 'sex,city,tier,lang' } });
    });
    afterAll(async () => {
      await stack.close();
    });

    it('moves only a record that exhausted its deliveries to the dead-letter queue, intact for replay', { timeout: 60_000 }, async () => {
      // Prepare
      stack.emulator.setFaults({ pHttp502: 1 });
      const body = JSON.stringify({ UserAttrs: makeUsers(30, 'exhausted') });
      await stack.send(body, { requestId: 'req-exhausted' });
      // Act
      const source = stack.startWorkers({ concurrency: 1, retryVisibilitySeconds: 0 });
      let dead: Awaited<ReturnType<Stack['takeAll']>> = [];
      for (let i = 0; i < 100 && dead.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 200));
        dead = await stack.takeAll(stack.dlqUrl);
      }
      await source.stop();
      // Assess
      expect(dead).toHaveLength(1);
      expect(dead[0]?.Body).toBe(body);
      expect(dead[0]?.MessageAttributes?.requestId?.StringValue).toBe('req-exhausted');
      expect(source.stats.failed).toBe(2);
    });
  });
});
