import { DeleteMessageBatchCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiEvent, lambdaContext, makeUsers, parseBody } from '../helpers/factories.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

describe('deadlines', () => {
  let stack: Stack;
  // 10 lanes, so one receive holds 10 lane records (one per lane); fixed names, so no IM lookup.
  const lanes = { LANE_COUNT: '10', ATTR_NAMES: 'sex,city,tier,lang' };
  // A worker copy at about 5 calls/s: the grid of IM_RATE_LIMIT 8 − margin 2 − the floor's 1 call in a second,
  // plus at most one floor call in a second.
  const slowWorker = {
    ...lanes,
    IM_RATE_LIMIT: '8',
    API_RATE_SHARE: '2',
    API_MAX_CONCURRENCY: '1',
    WORKER_MAX_CONCURRENCY: '2',
  };
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack.close();
  });

  it(
    'starts only the calls that can finish before the deadline, fails the rest of the lanes, and completes them on redelivery',
    { timeout: 60_000 },
    async () => {
      // Prepare: 1,000 users in 10 lanes, no early write. The batch needs 10 calls of 100 users; 7 s left − 1 s
      // margin − 5 s client timeout leaves 1 s to start calls, at 5 calls/s.
      const users = makeUsers(1_000, 'deadline');
      const { api } = stack.copy({ ...lanes, API_INLINE_CHUNKS: '0' });
      const answer = await api(apiEvent(JSON.stringify({ UserAttrs: users })), lambdaContext());
      const { worker } = stack.copy(slowWorker, 'worker');
      // Lane messages not in the received batch stay visible too.
      const queued = async (): Promise<number> =>
        Number(
          (
            await stack.sqs.send(
              new GetQueueAttributesCommand({
                QueueUrl: stack.lanesUrl,
                AttributeNames: ['ApproximateNumberOfMessages'],
              }),
            )
          ).Attributes?.ApproximateNumberOfMessages,
        );
      const laneMessages = await queued();
      const event = await stack.receiveEvent(stack.lanesUrl);
      const calls = (): number => stack.emulator.counters.callsByCommand.get('im_set_attr') ?? 0;
      const callsBefore = calls();
      // Act
      const started = Date.now();
      const result = await worker(event, lambdaContext(7_000));
      const elapsed = Date.now() - started;
      const startedCalls = calls() - callsBefore;
      process.stdout.write(
        `deadlines: ${startedCalls} of 10 calls started, ${result.batchItemFailures.length} of ${event.Records.length} records failed, in ${elapsed} ms\n`,
      );
      // Assess
      expect(parseBody(answer)).toMatchObject({ Accepted: 1_000, Applied: 0, Queued: 1_000 });
      const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
      const done = event.Records.filter((r) => !failed.has(r.messageId));
      const usersOf = (body: string): string[] =>
        (JSON.parse(body) as { UserAttrs: { To_Account: string }[] }).UserAttrs.map((u) => u.To_Account);
      expect(event.Records).toHaveLength(10);
      expect(done.length).toBeGreaterThan(0);
      expect(failed.size).toBeGreaterThan(0);
      // Only the calls that could start within the first second (5 or 6 of the grid, 1 of the floor), each answered in time.
      expect(startedCalls).toBeGreaterThan(0);
      expect(startedCalls).toBeLessThanOrEqual(7);
      expect(stack.emulator.counters.usersApplied).toBe(startedCalls * 100);
      expect(elapsed).toBeLessThan(6_000);
      for (const r of done) expect(usersOf(r.body).filter((a) => !stack.emulator.attrs.has(a))).toEqual([]);
      // The deadline, not IM, stopped them: the worker made them visible again at once, with no backoff.
      expect(await queued()).toBe(failed.size + laneMessages - event.Records.length);

      // Act again: the event source deletes what was done; the failed lane records finish with time to spare.
      await stack.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: stack.lanesUrl,
          Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
        }),
      );
      const workers = stack.startWorkers({ concurrency: 1, env: slowWorker });
      await stack.drained(30_000);
      await workers.stop();
      // Assess
      expect(users.filter((u) => !stack.emulator.attrs.has(u.To_Account))).toEqual([]);
      expect(await stack.takeAll(stack.dlqUrl)).toEqual([]);
    },
  );
});
