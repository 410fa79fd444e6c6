import { describe, expect, it } from 'vitest';
import { DONE, judgeInGroupOrder, retryLater } from '../../../lib/core/usecases/fifo-batch.ts';
import type { QueueRecord } from '../../../lib/core/ports.ts';
import { queueRecord } from '../../helpers/fakes.ts';

describe('the FIFO partial-batch policy (skipGroupOnError)', () => {
  it('fails the rest of a group after its first failure, unasked, and lets the other groups go on', async () => {
    // Prepare: two groups interleaved in the batch; a2 fails
    const [a1, b1, a2, b2, a3] = ['a1', 'b1', 'a2', 'b2', 'a3'].map((id) =>
      queueRecord({ id, group: id.startsWith('a') ? 'lane-a' : 'lane-b' }),
    ) as [QueueRecord, QueueRecord, QueueRecord, QueueRecord, QueueRecord];
    const asked: string[] = [];

    // Act
    const failed = await judgeInGroupOrder([a1, b1, a2, b2, a3], (record) => {
      asked.push(record.id);
      return record.id === 'a2' ? { done: false, delaySeconds: 4 } : DONE;
    });

    // Assess: groups are walked one after another, each in batch order; a3 was never asked and fails with a2's delay
    expect(asked).toEqual(['a1', 'a2', 'b1', 'b2']);
    expect(failed.map((f) => [f.record.id, f.delaySeconds])).toEqual([
      ['a2', 4],
      ['a3', 4],
    ]);
  });

  it('sets each delay once for its records, and reports a failed call without stopping the others', async () => {
    // Prepare
    const records = ['r1', 'r2', 'r3'].map((id) => queueRecord({ id, group: id }));
    const calls: { ids: string[]; delaySeconds: number }[] = [];
    const redelivery = {
      retryLater: (list: readonly QueueRecord[], delaySeconds: number): Promise<void> => {
        calls.push({ ids: list.map((r) => r.id), delaySeconds });
        return delaySeconds === 2 ? Promise.reject(new Error('throttled')) : Promise.resolve();
      },
    };

    // Act
    const error = await retryLater(redelivery, [
      { record: records[0] as QueueRecord, delaySeconds: 1 },
      { record: records[1] as QueueRecord, delaySeconds: 2 },
      { record: records[2] as QueueRecord, delaySeconds: 1 },
    ]);

    // Assess
    expect(calls).toEqual([
      { ids: ['r1', 'r3'], delaySeconds: 1 },
      { ids: ['r2'], delaySeconds: 2 },
    ]);
    expect(error).toBeInstanceOf(Error);
  });
});
