/**
 * The lanes worker with tag operations: composed per user across a batch, applied phase by phase, and every record
 * that touched a user's tags kept until that user's calls are confirmed.
 */
import { describe, expect, it } from 'vitest';
import type { UserTagOps } from '../../../lib/core/rules/types.ts';
import { userTagsBody } from '../../../lib/queue/message-format.ts';
import { processLaneBatch, type LaneBatchDeps } from '../../../lib/core/usecases/process-lane-batch.ts';
import type { QueueRecord } from '../../../lib/core/ports.ts';
import { ATTR_NAMES } from '../../helpers/factories.ts';
import { FakeClock, FakeDeadLetters, FakeIm, FakeRedelivery, FixedNames, queueRecord } from '../../helpers/fakes.ts';

function setup() {
  const clock = new FakeClock();
  const im = new FakeIm();
  const deadLetters = new FakeDeadLetters();
  const redelivery = new FakeRedelivery();
  const deps: LaneBatchDeps = {
    writer: im,
    attrNames: new FixedNames(ATTR_NAMES),
    deadLetters,
    redelivery,
    outageToleranceMs: 15 * 60_000,
    retryMaxSeconds: 60,
    now: clock.now,
  };
  const tags = (entries: readonly UserTagOps[] | readonly unknown[], group = 'lane-0'): QueueRecord =>
    queueRecord({ group, body: userTagsBody(entries), firstReceivedAt: clock.now() });
  const run = (records: readonly QueueRecord[]) => processLaneBatch(deps, records, clock.now() + 10_000);
  return { im, deadLetters, redelivery, tags, run };
}

describe('processLaneBatch with tags', () => {
  it('composes a batch exactly: add a, remove-all, add b gives {b}; remove a then add a keeps a', async () => {
    // Prepare
    const { im, tags, run } = setup();
    im.seedTags('u1', ['old']).seedTags('u2', ['a', 'keep']);
    const records = [
      tags([
        { To_Account: 'u1', Add: ['a'] },
        { To_Account: 'u2', Remove: ['a'] },
      ]),
      tags([{ To_Account: 'u1', RemoveAll: true }]),
      tags([
        { To_Account: 'u1', Add: ['b'] },
        { To_Account: 'u2', Add: ['a'] },
      ]),
    ];

    // Act
    const outcome = await run(records);

    // Assess
    expect(outcome.failedIds).toEqual([]);
    expect(im.tagsOf('u1')).toEqual(['b']);
    expect(im.tagsOf('u2')).toEqual(['a', 'keep']);
    // One remove-all and one add call for the batch: u2's remove of `a` is cancelled by its later add.
    expect(im.calls.map((c) => c.kind)).toEqual(['remove-all-tags', 'add-tags']);
    expect(outcome.applied).toBe(2);
  });

  it('runs remove-all before the add of the same user, and splits more than 10 added tags into calls', async () => {
    // Prepare
    const { im, tags, run } = setup();
    im.seedTags('u1', ['x']);
    const many = Array.from({ length: 23 }, (_, i) => `t${i}`);

    // Act
    const outcome = await run([tags([{ To_Account: 'u1', RemoveAll: true, Add: many }])]);

    // Assess
    expect(outcome.failedIds).toEqual([]);
    expect(im.calls.map((c) => c.kind)).toEqual(['remove-all-tags', 'add-tags', 'add-tags', 'add-tags']);
    expect(im.tagsOf('u1')).toEqual([...many].sort());
    expect(im.violations).toEqual([]);
  });

  it('keeps every record that touched a user whose tag call failed, not only the last, and applies them on redelivery', async () => {
    // Prepare: two records of u1 (add a, then add b) and one of u2; the add call for u1 fails with a timeout.
    const { im, tags, run, redelivery } = setup();
    const records = [
      tags([{ To_Account: 'u1', Add: ['a'] }]),
      tags([{ To_Account: 'u1', Add: ['b'] }]),
      tags([{ To_Account: 'u2', Add: ['c'] }], 'lane-1'),
    ];
    im.plan({ kind: 'users', errorCode: 70169, accounts: ['u1'] });

    // Act
    const first = await run(records);
    const again = await run(records.slice(0, 2));

    // Assess: the first record is kept too (deleting it would lose `a`), u2's lane goes on.
    expect(first.failedIds).toEqual([records[0]?.id, records[1]?.id]);
    expect(redelivery.calls.flatMap((c) => c.ids)).toEqual([records[0]?.id, records[1]?.id]);
    expect(again.failedIds).toEqual([]);
    expect(im.tagSnapshot()).toEqual({ u1: ['a', 'b'], u2: ['c'] });
  });

  it('leaves a user out of the add phase when their remove-all did not complete', async () => {
    // Prepare
    const { im, tags, run } = setup();
    im.seedTags('u1', ['x']);
    im.failWhen((call) => (call.kind === 'remove-all-tags' ? { kind: 'error', errorCode: 70169 } : undefined));

    // Act
    const outcome = await run([tags([{ To_Account: 'u1', RemoveAll: true, Add: ['y'] }])]);

    // Assess: the add was never sent, so IM does not hold {x, y}, a set the operations never give.
    expect(outcome.failedIds).toHaveLength(1);
    expect(im.calls.map((c) => c.kind)).not.toContain('add-tags');
    expect(im.tagsOf('u1')).toEqual(['x']);
  });

  it("dead-letters a user's refused phases as one entry in order, and reads bad entries into letters by rule", async () => {
    // Prepare: IM refuses the remove-all for good (an unknown account); the add is refused with it.
    const { im, deadLetters, tags, run } = setup();
    im.failWhen((call) => (call.kind === 'remove-all-tags' ? { kind: 'error', errorCode: 70107 } : undefined));
    const record = tags([
      { To_Account: 'u1', RemoveAll: true, Add: ['y'] },
      { To_Account: 'u2', Add: ['x'.repeat(51)] },
    ]);

    // Act
    const outcome = await run([record]);

    // Assess
    expect(outcome.failedIds).toEqual([]);
    const byRule = Object.fromEntries(deadLetters.letters.map((l) => [l.why.rule, l]));
    expect(byRule['im-error-70107']).toMatchObject({
      tags: true,
      entries: [{ To_Account: 'u1', RemoveAll: true, Add: ['y'] }],
    });
    expect(byRule['tag-max-50-bytes']).toMatchObject({ tags: true, entries: [{ To_Account: 'u2' }] });
    expect(im.calls.map((c) => c.kind)).toEqual(['remove-all-tags']);
  });

  it('applies attributes and tags of the same user from one lane, each in its own order', async () => {
    // Prepare
    const { im, tags, run } = setup();
    const attrs = (city: string): QueueRecord =>
      queueRecord({ group: 'lane-0', users: [{ To_Account: 'u1', Attrs: { city } }] });
    const records = [
      attrs('Paris'),
      tags([{ To_Account: 'u1', Add: ['vip'] }]),
      attrs('Lyon'),
      tags([{ To_Account: 'u1', Remove: ['vip'], Add: ['gold'] }]),
    ];

    // Act
    const outcome = await run(records);

    // Assess
    expect(outcome.failedIds).toEqual([]);
    expect(im.attrsOf('u1')).toEqual({ city: 'Lyon' });
    expect(im.tagsOf('u1')).toEqual(['gold']);
  });

  it('finds the one user IM refuses a whole add call for (60003, past 100 tags): only that user is dead-lettered', async () => {
    // Prepare
    const { im, deadLetters, tags, run } = setup();
    const entries = Array.from({ length: 40 }, (_, i) => ({ To_Account: `u${i}`, Add: ['new'] }));
    im.failWhen((call) =>
      call.kind === 'add-tags' && call.accounts.includes('u17') ? { kind: 'error', errorCode: 60003 } : undefined,
    );

    // Act
    const outcome = await run([tags(entries)]);

    // Assess
    expect(outcome.failedIds).toEqual([]);
    expect(deadLetters.letters.map((l) => ('entries' in l ? l.entries : []))).toEqual([
      [{ To_Account: 'u17', Add: ['new'] }],
    ]);
    expect(Object.keys(im.tagSnapshot())).toHaveLength(39);
  });
});
