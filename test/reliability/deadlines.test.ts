import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaContext, makeUsers } from '../helpers/factories.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

describe('deadlines', () => {
  let stack: Stack;
  // A worker copy paced at 5 calls/s: (IM_RATE_LIMIT 12 − API share 2) / 2 copies.
  const slowWorker = { IM_RATE_LIMIT: '12', API_RATE_SHARE: '2', API_MAX_CONCURRENCY: '1', WORKER_MAX_CONCURRENCY: '2', ATTR_NAMES: 'sex,city,tier,lang' };
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack.close();
  });

  it('starts only the calls that can finish before the deadline, reports the rest failed, and completes them on redelivery', { timeout: 60_000 }, async () => {
    // Prepare: 10 one-chunk records; 7 s left − 1 s margin − 5 s client timeout leaves 1 s to start calls.
    const users = makeUsers(1_000, 'deadline');
    for (let i = 0; i < 10; i++) await stack.send(JSON.stringify({ UserAttrs: users.slice(i * 100, i * 100 + 100) }));
    const { worker } = stack.copy(slowWorker, 'worker');
    const event = await stack.receiveEvent();
    const calls = () => stack.emulator.counters.callsByCommand.get('im_set_attr') ?? 0;
    const callsBefore = calls();
    // Act
    const started = Date.now();
    const result = await worker(event, lambdaContext(7_000));
    const elapsed = Date.now() - started;
    // Assess
    const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
    const applied = event.Records.filter((r) => !failed.has(r.messageId));
    expect(event.Records).toHaveLength(10);
    expect(applied.length).toBeGreaterThan(0);
    expect(failed.size).toBeGreaterThan(0);
    expect(calls() - callsBefore).toBe(applied.length);
    expect(elapsed).toBeLessThan(6_000);
    for (const r of applied) {
      const chunk = (JSON.parse(r.body) as { UserAttrs: { To_Account: string }[] }).UserAttrs;
      expect(chunk.every((u) => stack.emulator.attrs.has(u.To_Account))).toBe(true);
    }

    // Act again: the failed records come back (visibility 0 here) and finish with time to spare.
    await stack.sqs.send(
      new (await import('@aws-sdk/client-sqs')).ChangeMessageVisibilityBatchCommand({
        QueueUrl: stack.overflowUrl,
        Entries: event.Records.filter((r) => failed.has(r.messageId)).map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle, VisibilityTimeout: 0 })),
      }),
    );
    await stack.sqs.send(
      new (await import('@aws-sdk/client-sqs')).DeleteMessageBatchCommand({
        QueueUrl: stack.overflowUrl,
        Entries: applied.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
      }),
    );
    const source = stack.startWorkers({ concurrency: 1, env: slowWorker });
    await stack.drained(30_000);
    await source.stop();
    // Assess
    expect(users.every((u) => stack.emulator.attrs.has(u.To_Account))).toBe(true);
    expect(await stack.takeAll(stack.dlqUrl)).toEqual([]);
  });
});
