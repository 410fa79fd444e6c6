import { describe, expect, it } from 'vitest';
import { applyCalls, type ApplyOptions } from '../../../lib/core/dispatch/apply-calls.ts';
import type { DispatchResult, WriteCall } from '../../../lib/core/dispatch/types.ts';
import { TRANSPORT_ERROR_CODES } from '../../../lib/im/error-codes.ts';
import { DeadlineError, ImError } from '../../../lib/im/errors.ts';
import type { RetryClass } from '../../../lib/core/errors.ts';
import { retryClassOf } from '../../../lib/im/classify.ts';
import type { UserAttr, UserAttrRemoval } from '../../../lib/core/rules/types.ts';
import type { TagWriter, Writer, WriteOutcome } from '../../../lib/core/ports.ts';
import { makeUsers } from '../../helpers/factories.ts';

const COMMAND = 'all_member_push/im_set_attr';
const imError = (errorCode: number, errorClass: RetryClass, attempts = 1): ImError =>
  new ImError({ errorCode, errorInfo: `error ${errorCode}`, errorClass, command: COMMAND, attempts });

type Answer = WriteOutcome | Error;

/** A user IM failed on their own, with the retry class the IM adapter gives its code. */
const failedUser = (To_Account: string, errorCode: number) => ({
  To_Account,
  errorCode,
  errorClass: retryClassOf(errorCode),
});

/** Tag writes these tests never make: a call to one fails the test. */
const NO_TAG_WRITES: TagWriter = {
  addTags: () => Promise.reject(new Error('unexpected addTags')),
  removeTags: () => Promise.reject(new Error('unexpected removeTags')),
  removeAllTags: () => Promise.reject(new Error('unexpected removeAllTags')),
};

/** A fake IM client: records each call and answers with `decide(users)`, by default success. */
class FakeSetter implements Writer {
  readonly addTags = NO_TAG_WRITES.addTags;
  readonly removeTags = NO_TAG_WRITES.removeTags;
  readonly removeAllTags = NO_TAG_WRITES.removeAllTags;
  readonly calls: { users: readonly UserAttr[]; options: { deadlineMs?: number } | undefined }[] = [];
  readonly removals: (readonly UserAttrRemoval[])[] = [];
  readonly #decide: (users: readonly UserAttr[], call: number) => Answer;

  constructor(decide: (users: readonly UserAttr[], call: number) => Answer = () => ({ failedUsers: [] })) {
    this.#decide = decide;
  }

  async setAttr(users: readonly UserAttr[], options?: { deadlineMs?: number }): Promise<WriteOutcome> {
    this.calls.push({ users, options });
    const answer = this.#decide(users, this.calls.length);
    await Promise.resolve();
    if (answer instanceof Error) throw answer;
    return answer;
  }

  async removeAttr(users: readonly UserAttrRemoval[]): Promise<WriteOutcome> {
    this.removals.push(users);
    await Promise.resolve();
    return { failedUsers: [] };
  }
}

/** Set calls of the given chunks. */
const applyChunks = (
  writer: Writer,
  chunks: readonly (readonly UserAttr[])[],
  options?: ApplyOptions,
): Promise<DispatchResult> =>
  applyCalls(
    writer,
    chunks.map((users): WriteCall => ({ kind: 'set', users })),
    options,
  );

/** The users of a list of calls, or of groups of them. */
const usersOf = (items: readonly WriteCall[] | readonly { call: WriteCall }[]): UserAttr[] =>
  items.flatMap((item) => {
    const call = 'call' in item ? item.call : item;
    return call.kind === 'set' ? call.users : [];
  });

const accounts = (users: readonly UserAttr[]): string[] => users.map((u) => u.To_Account);
const chunksOf = (users: readonly UserAttr[], size: number): UserAttr[][] =>
  Array.from({ length: Math.ceil(users.length / size) }, (_, i) => users.slice(i * size, (i + 1) * size));

/** How many times each account appears across the three lists. */
function placements(result: DispatchResult): Map<string, number> {
  const all = [...usersOf(result.applied), ...usersOf(result.refused), ...usersOf(result.retryable)];
  const counts = new Map<string, number>();
  for (const u of all) counts.set(u.To_Account, (counts.get(u.To_Account) ?? 0) + 1);
  return counts;
}

describe('applyCalls', () => {
  it('reports every user of successful calls as applied, one call per chunk', async () => {
    // Prepare
    const users = makeUsers(250);
    const setter = new FakeSetter();

    // Act
    const result = await applyChunks(setter, chunksOf(users, 100));

    // Assess
    expect(accounts(usersOf(result.applied)).sort()).toEqual(accounts(users).sort());
    expect(result.refused).toEqual([]);
    expect(result.retryable).toEqual([]);
    expect(setter.calls.map((c) => c.users.length).sort()).toEqual([100, 100, 50]);
  });

  it('passes the deadline to every call', async () => {
    // Prepare
    const setter = new FakeSetter();

    // Act
    await applyChunks(setter, chunksOf(makeUsers(3), 1), { deadlineMs: 1_700_000_000_000 });

    // Assess
    expect(setter.calls.map((c) => c.options)).toEqual([
      { deadlineMs: 1_700_000_000_000 },
      { deadlineMs: 1_700_000_000_000 },
      { deadlineMs: 1_700_000_000_000 },
    ]);
  });

  it('on partial success refuses the listed users with their code and applies the rest', async () => {
    // Prepare
    const users = makeUsers(5);
    const setter = new FakeSetter(() => ({
      failedUsers: [failedUser('u-1', 70107), failedUser('u-3', 90033)],
    }));

    // Act
    const result = await applyChunks(setter, [users]);

    // Assess
    expect(accounts(usersOf(result.applied))).toEqual(['u-0', 'u-2', 'u-4']);
    expect(result.refused).toEqual([
      {
        call: { kind: 'set', users: [users[1]] },
        errorCode: 70107,
        errorInfo: 'IM refused this user (ErrorCode 70107)',
      },
      {
        call: { kind: 'set', users: [users[3]] },
        errorCode: 90033,
        errorInfo: 'IM refused this user (ErrorCode 90033)',
      },
    ]);
    expect(result.retryable).toEqual([]);
  });

  it('refuses a chunk failing with a permanent ImError, with its code and info', async () => {
    // Prepare
    const users = makeUsers(4);
    const setter = new FakeSetter(() => imError(90009, 'permanent'));

    // Act
    const result = await applyChunks(setter, [users]);

    // Assess
    expect(result.refused).toEqual([{ call: { kind: 'set', users }, errorCode: 90009, errorInfo: 'error 90009' }]);
    expect(result.applied).toEqual([]);
    expect(result.retryable).toEqual([]);
    expect(setter.calls).toHaveLength(1);
  });

  it.each<[RetryClass, number]>([
    ['transient', 91000],
    ['rate-limited', 60007],
    ['signature-stale', 70001],
  ])('keeps a chunk failing as %s retryable, as attempted', async (errorClass, errorCode) => {
    // Prepare
    const users = makeUsers(3);
    const setter = new FakeSetter(() => imError(errorCode, errorClass, 6));

    // Act
    const result = await applyChunks(setter, [users]);

    // Assess
    expect(result.retryable).toEqual([
      { call: { kind: 'set', users }, errorCode, errorInfo: `error ${errorCode}`, attempted: true },
    ]);
    expect(result.applied).toEqual([]);
    expect(result.refused).toEqual([]);
  });

  it('keeps a chunk that hit the deadline before any attempt retryable, as not attempted', async () => {
    // Prepare
    const users = makeUsers(3);
    const setter = new FakeSetter(() => new DeadlineError(COMMAND, 0, 1_700_000_000_000));

    // Act
    const result = await applyChunks(setter, [users]);

    // Assess
    expect(result.retryable).toEqual([
      {
        call: { kind: 'set', users },
        errorCode: TRANSPORT_ERROR_CODES.deadline,
        errorInfo: 'no time left before the deadline to start an attempt',
        attempted: false,
        deadlineReached: true,
      },
    ]);
  });

  it('bisects a 90033 chunk of 100 users with one bad user: 99 applied, 1 refused, at most 15 calls', async () => {
    // Prepare
    const users = makeUsers(100);
    const bad = 'u-37';
    const setter = new FakeSetter((chunk) =>
      chunk.some((u) => u.To_Account === bad) ? imError(90033, 'permanent') : { failedUsers: [] },
    );

    // Act
    const result = await applyChunks(setter, [users]);

    // Assess
    expect(usersOf(result.applied)).toHaveLength(99);
    expect(accounts(usersOf(result.applied))).not.toContain(bad);
    expect(result.refused).toEqual([
      { call: { kind: 'set', users: [users[37]] }, errorCode: 90033, errorInfo: 'error 90033' },
    ]);
    expect(result.retryable).toEqual([]);
    expect(setter.calls.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(100)) + 1);
    expect(setter.calls.every((c) => c.users.length <= 100)).toBe(true);
  });

  it('finds two bad users in one chunk', async () => {
    // Prepare
    const users = makeUsers(100);
    const bad = new Set(['u-3', 'u-88']);
    const setter = new FakeSetter((chunk) =>
      chunk.some((u) => bad.has(u.To_Account)) ? imError(90033, 'permanent') : { failedUsers: [] },
    );

    // Act
    const result = await applyChunks(setter, [users]);

    // Assess
    expect(usersOf(result.applied)).toHaveLength(98);
    expect(result.refused.flatMap((g) => accounts(usersOf([g]))).sort()).toEqual(['u-3', 'u-88']);
  });

  it('does not bisect a permanent code outside bisectCodes', async () => {
    // Prepare
    const users = makeUsers(10);
    const setter = new FakeSetter(() => imError(90001, 'permanent'));

    // Act
    const result = await applyChunks(setter, [users]);

    // Assess
    expect(setter.calls).toHaveLength(1);
    expect(result.refused).toEqual([{ call: { kind: 'set', users }, errorCode: 90001, errorInfo: 'error 90001' }]);
  });

  it('bisects on the codes given in bisectCodes', async () => {
    // Prepare
    const users = makeUsers(8);
    const setter = new FakeSetter((chunk) =>
      chunk.some((u) => u.To_Account === 'u-5') ? imError(70107, 'permanent') : { failedUsers: [] },
    );

    // Act
    const result = await applyChunks(setter, [users], { bisectCodes: new Set([70107]) });

    // Assess
    expect(usersOf(result.applied)).toHaveLength(7);
    expect(result.refused).toEqual([
      { call: { kind: 'set', users: [users[5]] }, errorCode: 70107, errorInfo: 'error 70107' },
    ]);
  });

  it('halts after a signature-wrong error: later chunks are kept retryable, not attempted, and not sent', async () => {
    // Prepare
    const users = makeUsers(30);
    const chunks = chunksOf(users, 10);
    const setter = new FakeSetter(() => imError(70009, 'signature-wrong', 2));

    // Act
    const result = await applyChunks(setter, chunks, { concurrency: 1 });

    // Assess
    expect(setter.calls).toHaveLength(1);
    expect(result.retryable).toEqual([
      { call: { kind: 'set', users: chunks[0] }, errorCode: 70009, errorInfo: 'error 70009', attempted: true },
      { call: { kind: 'set', users: chunks[1] }, errorCode: 70009, errorInfo: 'error 70009', attempted: false },
      { call: { kind: 'set', users: chunks[2] }, errorCode: 70009, errorInfo: 'error 70009', attempted: false },
    ]);
    expect(result.applied).toEqual([]);
  });

  it('keeps the work of chunks applied before the halt', async () => {
    // Prepare
    const chunks = chunksOf(makeUsers(30), 10);
    const setter = new FakeSetter((_users, call) =>
      call === 2 ? imError(70009, 'signature-wrong') : { failedUsers: [] },
    );

    // Act
    const result = await applyChunks(setter, chunks, { concurrency: 1 });

    // Assess
    expect(setter.calls).toHaveLength(2);
    expect(accounts(usersOf(result.applied))).toEqual(accounts(chunks[0] ?? []));
    expect(result.retryable.map((g) => g.attempted)).toEqual([true, false]);
  });

  it('starts at most `concurrency` calls at once', async () => {
    // Prepare
    let inFlight = 0;
    let peak = 0;
    const setter: Writer = {
      ...NO_TAG_WRITES,
      removeAttr: () => Promise.resolve({ failedUsers: [] }),
      async setAttr() {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
        return { failedUsers: [] };
      },
    };

    // Act
    await applyChunks(setter, chunksOf(makeUsers(40), 1), { concurrency: 3 });

    // Assess
    expect(peak).toBe(3);
  });

  it('keeps for later a user listed in ErrorList with a code worth retrying', async () => {
    // Prepare
    const users = makeUsers(3);
    const setter = new FakeSetter(() => ({
      failedUsers: [failedUser(users[1]?.To_Account ?? '', 91000)],
    }));

    // Act
    const result = await applyChunks(setter, [users]);

    // Assess
    expect(accounts(usersOf(result.applied))).toEqual([users[0]?.To_Account, users[2]?.To_Account]);
    expect(result.refused).toEqual([]);
    expect(result.retryable).toEqual([
      {
        call: { kind: 'set', users: [users[1]] },
        errorCode: 91000,
        errorInfo: 'IM failed this user (ErrorCode 91000)',
        attempted: true,
      },
    ]);
  });

  it('keeps the users for later, not attempted, on an error that is not an ImError', async () => {
    // Prepare
    const setter = new FakeSetter(() => new TypeError('credentials could not be read'));
    const users = makeUsers(2);

    // Act
    const result = await applyChunks(setter, [users]);

    // Assess
    expect(result.applied).toEqual([]);
    expect(result.refused).toEqual([]);
    expect(result.retryable).toEqual([
      {
        call: { kind: 'set', users },
        errorCode: 0,
        errorInfo: 'TypeError: credentials could not be read',
        attempted: false,
      },
    ]);
  });

  it('returns three empty lists for no chunk, without calling IM', async () => {
    // Prepare
    const setter = new FakeSetter();

    // Act
    const result = await applyChunks(setter, []);

    // Assess
    expect(result).toEqual({ applied: [], refused: [], retryable: [] });
    expect(setter.calls).toHaveLength(0);
  });

  it('puts every input user in exactly one list, whatever each chunk meets', async () => {
    // Prepare: each chunk meets another outcome, chosen by its first account
    const users = makeUsers(700);
    const chunks = chunksOf(users, 100);
    const outcomeOf = new Map<string, (chunk: readonly UserAttr[]) => Answer>([
      ['u-0', () => ({ failedUsers: [] })],
      [
        'u-100',
        (chunk) => ({
          failedUsers: chunk.filter((_, i) => i % 7 === 0).map((u) => failedUser(u.To_Account, 70107)),
        }),
      ],
      ['u-200', () => imError(90001, 'permanent')],
      ['u-300', () => imError(91000, 'transient', 6)],
      [
        'u-400',
        (chunk) => (chunk.some((u) => u.To_Account === 'u-450') ? imError(90033, 'permanent') : { failedUsers: [] }),
      ],
      ['u-500', () => new DeadlineError(COMMAND, 0, 0)],
      ['u-600', () => imError(60007, 'rate-limited', 6)],
    ]);
    const firstOf = new Map(
      chunks.flatMap((chunk) => chunk.map((u) => [u.To_Account, chunk[0]?.To_Account ?? ''] as const)),
    );
    const setter = new FakeSetter((chunk) => {
      const decide = outcomeOf.get(firstOf.get(chunk[0]?.To_Account ?? '') ?? '');
      return decide === undefined ? new Error('unknown chunk') : decide(chunk);
    });

    // Act
    const result = await applyChunks(setter, chunks);

    // Assess
    const counts = placements(result);
    expect(counts.size).toBe(users.length);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(usersOf(result.applied).length).toBe(100 + 85 + 99);
    expect(usersOf(result.refused)).toHaveLength(15 + 100 + 1);
    expect(usersOf(result.retryable)).toHaveLength(300);
  });

  it('sends remove calls to removeAttr and reports their users like set calls', async () => {
    // Prepare
    const setter = new FakeSetter();
    const removal: WriteCall = { kind: 'remove', users: [{ To_Account: 'u-1', Attrs: ['city'] }] };

    // Act
    const result = await applyCalls(setter, [removal, { kind: 'set', users: makeUsers(2) }]);

    // Assess
    expect(setter.removals).toEqual([[{ To_Account: 'u-1', Attrs: ['city'] }]]);
    expect(setter.calls).toHaveLength(1);
    expect(result.applied).toContainEqual(removal);
  });
});
