import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserAttr } from '../../lib/core/rules/types.ts';
import { startSqsEventSource } from '../../local/sqs-event-source.ts';
import { apiEvent, lambdaContext, makeUsers, parseBody } from '../helpers/factories.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

const OUTAGE_MS = 30_000;
const NAMES = { ATTR_NAMES: 'sex,city,tier,lang' } as const;

/** The users whose attributes in IM are not exactly the ones sent. */
const notApplied = (stack: Stack, users: readonly UserAttr[]): string[] =>
  users
    .filter((u) => JSON.stringify(stack.emulator.attrs.get(u.To_Account)) !== JSON.stringify(u.Attrs))
    .map((u) => u.To_Account);

describe('IM outage', () => {
  describe('down for 30 s, then back', () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await startStack({ env: { IM_RETRY_MAX_TOTAL_MS: '5000', WORKER_MAX_CONCURRENCY: '2', ...NAMES } });
    });
    afterAll(async () => {
      await stack.close();
    });

    it('drains the lanes afterwards with nothing lost and nothing dead-lettered', { timeout: 120_000 }, async () => {
      // Prepare: every IM call fails (HTTP 502) for 30 s. The worker's own backoff (1, 2, 4, 8, 16 s …) spans
      // the outage: no record is dead-lettered, as the outage is far shorter than OUTAGE_TOLERANCE_MINUTES.
      const webhookUsers = makeUsers(2_000, 'outage-hook');
      const producerUsers = makeUsers(3_000, 'outage-producer');
      stack.emulator.setFaults({ pHttp502: 1 });
      const back = setTimeout(() => stack.emulator.setFaults({}), OUTAGE_MS);
      const started = Date.now();
      const workers = stack.startWorkers({ concurrency: 2 });
      // Act
      const { api } = stack.copy();
      const answer = await api(apiEvent(JSON.stringify({ UserAttrs: webhookUsers })), lambdaContext());
      for (let i = 0; i < producerUsers.length; i += 1_000) {
        await stack.sendIntake(JSON.stringify({ UserAttrs: producerUsers.slice(i, i + 1_000) }), { groupId: 'crm' });
      }
      await new Promise((r) => setTimeout(r, OUTAGE_MS - (Date.now() - started) + 500));
      const failedDuringOutage = workers.lanes.stats.failed;
      await stack.drained(60_000);
      clearTimeout(back);
      // Assess
      expect(answer.statusCode).toBe(202);
      expect(parseBody(answer)).toMatchObject({ Accepted: 2_000, Applied: 0, Queued: 2_000, Rejected: 0 });
      expect(failedDuringOutage).toBeGreaterThan(0);
      expect(notApplied(stack, [...webhookUsers, ...producerUsers])).toEqual([]);
      expect(stack.emulator.counters.http502).toBeGreaterThan(10);
      expect(await stack.takeAll(stack.dlqUrl)).toEqual([]);
    });
  });

  describe('down for longer than the outage tolerance', () => {
    // OUTAGE_TOLERANCE_MINUTES is whole minutes (at least 1). Rather than fail for a real minute, the event
    // source hands the worker records whose ApproximateFirstReceiveTimestamp lies SKEW_MS earlier than
    // fauxqs says, as if they had been failing that much longer: the record crosses the 60 s tolerance after
    // about 5 s of real failures (deliveries at +0, +1, +3 s fail and back off; the one at +7 s is past it).
    const SKEW_MS = 55_000;
    let stack: Stack;
    beforeAll(async () => {
      stack = await startStack();
    });
    afterAll(async () => {
      await stack.close();
    });

    it(
      'dead-letters the record with rule outage-tolerance-exceeded and its last error, intact for replay, and the lane moves on',
      { timeout: 60_000 },
      async () => {
        // Prepare: one lane, so the second webhook's record waits behind the first one.
        const env = {
          ...NAMES,
          LANE_COUNT: '1',
          API_INLINE_CHUNKS: '0',
          IM_RETRY_MAX_ATTEMPTS: '1',
          OUTAGE_TOLERANCE_MINUTES: '1',
        };
        const { api } = stack.copy(env);
        const { worker } = stack.copy(env, 'worker');
        const stuck = makeUsers(30, 'stuck');
        const behind = makeUsers(30, 'behind');
        const stuckEvent = apiEvent(JSON.stringify({ UserAttrs: stuck }));
        stack.emulator.setFaults({ pHttp502: 1 });
        const answers = [
          await api(stuckEvent, lambdaContext()),
          await api(apiEvent(JSON.stringify({ UserAttrs: behind })), lambdaContext()),
        ];
        const deliveries = new Map<string, { body: string; received: number; failed: number }>();
        const aged = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
          const records = event.Records.map((r) => ({
            ...r,
            attributes: {
              ...r.attributes,
              ApproximateFirstReceiveTimestamp: String(Number(r.attributes.ApproximateFirstReceiveTimestamp) - SKEW_MS),
            },
          }));
          const result = await worker({ Records: records }, context);
          for (const r of records) {
            const seen = deliveries.get(r.messageId) ?? { body: r.body, received: 0, failed: 0 };
            seen.received += 1;
            if (result.batchItemFailures.some((f) => f.itemIdentifier === r.messageId)) seen.failed += 1;
            deliveries.set(r.messageId, seen);
          }
          return result;
        };
        // Act: the lanes' event source, as deployed but for the skewed clock; IM comes back once the letter is written.
        const source = startSqsEventSource({
          client: stack.sqs,
          queueUrl: stack.lanesUrl,
          handler: aged,
          concurrency: 1,
          timeoutMs: 30_000,
          waitTimeSeconds: 1,
          log: () => undefined,
        });
        let dead: Awaited<ReturnType<Stack['takeAll']>> = [];
        try {
          for (let i = 0; i < 200 && dead.length === 0; i++) {
            await new Promise((r) => setTimeout(r, 100));
            dead = await stack.takeAll(stack.dlqUrl);
          }
          stack.emulator.setFaults({});
          await stack.drained(30_000);
        } finally {
          await source.stop();
        }
        // Assess
        expect(answers.map((a) => a.statusCode)).toEqual([202, 202]);
        expect(dead).toHaveLength(1);
        const letter = dead[0];
        const [stuckId, stuckDeliveries] = [...deliveries].find(([, d]) => d.body === letter?.Body) ?? [];
        expect(JSON.parse(letter?.Body ?? '{}')).toEqual({ UserAttrs: stuck });
        expect(stuckDeliveries?.failed).toBeGreaterThanOrEqual(2);
        expect(stuckDeliveries?.received).toBe((stuckDeliveries?.failed ?? 0) + 1);
        const attribute = (name: string): string | undefined => letter?.MessageAttributes?.[name]?.StringValue;
        expect(attribute('rule')).toBe('outage-tolerance-exceeded');
        expect(attribute('ErrorCode')).toBe('-502');
        expect(attribute('ErrorInfo')).toEqual(expect.stringMatching(/./));
        expect(attribute('reason')).toContain('last error');
        expect(attribute('requestId')).toBe(stuckEvent.requestContext.requestId);
        expect(attribute('records')).toBe(stuckId);
        expect(notApplied(stack, behind)).toEqual([]);
        expect(stuck.filter((u) => stack.emulator.attrs.has(u.To_Account))).toEqual([]);
        expect(await stack.takeAll(stack.dlqUrl)).toEqual([]);
      },
    );
  });
});
