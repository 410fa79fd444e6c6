import { describe, expect, it, vi } from 'vitest';
import { StaleRequestError } from '../../../lib/core/errors.ts';
import { answerOnce } from '../../../lib/core/usecases/answer-once.ts';
import type { Idempotency, IdempotencyKey, StoredAnswer } from '../../../lib/core/ports.ts';

/** A tiny `Idempotency`: answers kept in a map by id, only when `store` is true. */
class FakeIdempotency implements Idempotency {
  readonly stored = new Map<string, StoredAnswer>();
  readonly onceCalls: { key: IdempotencyKey; remainingMs: number }[] = [];

  async once(
    key: IdempotencyKey,
    remainingMs: number,
    work: () => Promise<{ answer: StoredAnswer; store: boolean }>,
  ): Promise<StoredAnswer> {
    this.onceCalls.push({ key, remainingMs });
    const stored = this.stored.get(key.id);
    if (stored !== undefined) return stored;
    const { answer, store } = await work();
    if (store) this.stored.set(key.id, answer);
    return answer;
  }

  async completed(key: IdempotencyKey): Promise<StoredAnswer | undefined> {
    return this.stored.get(key.id);
  }
}

const KEY: IdempotencyKey = { id: 'msg_1', bodyHash: 'h1' };
const ACCEPTED: StoredAnswer = { statusCode: 202, body: '{"Queued":1}' };

describe('answerOnce', () => {
  it('answers a stale request from the store when it was completed before, without running the work', async () => {
    // Prepare
    const idempotency = new FakeIdempotency();
    idempotency.stored.set(KEY.id, ACCEPTED);
    const work = vi.fn(async () => ({ answer: { statusCode: 500, body: 'ran' }, store: true }));

    // Act
    const answer = await answerOnce(idempotency, { key: KEY, fresh: false, remainingMs: 5_000 }, work);

    // Assess
    expect(answer).toEqual(ACCEPTED);
    expect(work).not.toHaveBeenCalled();
    expect(idempotency.onceCalls).toEqual([]);
  });

  it.each([
    { case: 'nothing stored', idempotency: new FakeIdempotency(), key: KEY },
    { case: 'no key', idempotency: new FakeIdempotency(), key: undefined },
    { case: 'no store', idempotency: undefined, key: KEY },
  ])(
    'refuses a stale request with StaleRequestError ($case), without running the work',
    async ({ idempotency, key }) => {
      // Prepare
      const work = vi.fn(async () => ({ answer: ACCEPTED, store: true }));

      // Act
      const attempt = answerOnce(idempotency, { key, fresh: false, remainingMs: 5_000 }, work);

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(StaleRequestError);
      expect(work).not.toHaveBeenCalled();
    },
  );

  it.each([
    { case: 'no key', idempotency: new FakeIdempotency(), key: undefined },
    { case: 'no store', idempotency: undefined, key: KEY },
  ])('runs the work of a fresh request directly ($case)', async ({ idempotency, key }) => {
    // Prepare
    const work = vi.fn(async () => ({ answer: ACCEPTED, store: true }));

    // Act
    const answer = await answerOnce(idempotency, { key, fresh: true, remainingMs: 5_000 }, work);

    // Assess
    expect(answer).toEqual(ACCEPTED);
    expect(work).toHaveBeenCalledTimes(1);
    expect(idempotency?.onceCalls ?? []).toEqual([]);
  });

  it('runs a fresh request with a key through once, and answers its re-send from the store', async () => {
    // Prepare
    const idempotency = new FakeIdempotency();
    const work = vi.fn(async () => ({ answer: ACCEPTED, store: true }));

    // Act
    const first = await answerOnce(idempotency, { key: KEY, fresh: true, remainingMs: 7_000 }, work);
    const again = await answerOnce(idempotency, { key: KEY, fresh: true, remainingMs: 6_000 }, work);

    // Assess
    expect(first).toEqual(ACCEPTED);
    expect(again).toEqual(ACCEPTED);
    expect(work).toHaveBeenCalledTimes(1);
    expect(idempotency.onceCalls).toEqual([
      { key: KEY, remainingMs: 7_000 },
      { key: KEY, remainingMs: 6_000 },
    ]);
  });

  it('runs a fresh request again when its earlier answer was not to be stored', async () => {
    // Prepare
    const idempotency = new FakeIdempotency();
    const work = vi
      .fn<() => Promise<{ answer: StoredAnswer; store: boolean }>>()
      .mockResolvedValueOnce({ answer: { statusCode: 503, body: 'lanes down' }, store: false })
      .mockResolvedValueOnce({ answer: ACCEPTED, store: true });

    // Act
    const first = await answerOnce(idempotency, { key: KEY, fresh: true, remainingMs: 5_000 }, work);
    const second = await answerOnce(idempotency, { key: KEY, fresh: true, remainingMs: 5_000 }, work);
    const stale = await answerOnce(idempotency, { key: KEY, fresh: false, remainingMs: 5_000 }, work);

    // Assess
    expect(first.statusCode).toBe(503);
    expect(second).toEqual(ACCEPTED);
    expect(stale).toEqual(ACCEPTED);
    expect(work).toHaveBeenCalledTimes(2);
  });
});
