import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { SqsDeadLetters } from '../../lib/queue/sqs-dead-letters.ts';
import { useStack } from '../helpers/use-stack.ts';
import type { Stack } from '../helpers/stack.ts';
import { emulatorClient, jsonOf, runTimAttr } from './cli-harness.ts';

/** Dead letters written the way the worker writes them. */
async function writeLetters(stack: Stack): Promise<void> {
  const letters = new SqsDeadLetters({ client: stack.sqs, queueUrl: stack.dlqUrl });
  await letters.send([
    {
      entries: [
        { To_Account: 'v1', Attrs: { vip: 'yes' } },
        { To_Account: 'v2', Attrs: { vip: 'no', city: 'Oslo' } },
      ],
      why: {
        rule: 'attr-name-unregistered',
        reason: 'UserAttrs[0].Attrs.vip is not an attribute name registered for the app [attr-name-unregistered].',
        requestId: 'req-1',
      },
    },
  ]);
  // Letters are replayed oldest first by SentTimestamp (ms): apart by more than a tick.
  await sleep(5);
  await letters.send([
    {
      entries: [{ To_Account: 'n1', Attrs: { city: 'Lima' } }],
      why: {
        rule: 'im-error-70107',
        reason: 'IM refused the account',
        requestId: 'req-2',
        errorCode: 70107,
        errorInfo: 'account not imported',
      },
    },
  ]);
  await sleep(5);
  await letters.send([
    {
      entries: [{ To_Account: 'n2', Attrs: { city: 'Rome', tier: null } }],
      why: {
        rule: 'im-error-70107',
        reason: 'IM refused the account',
        requestId: 'req-3',
        errorCode: 70107,
        errorInfo: 'account not imported',
      },
    },
  ]);
  await letters.send([
    { raw: 'not json', why: { rule: 'body-must-be-json', reason: 'the message body is not JSON', requestId: 'req-4' } },
  ]);
}

async function depth(stack: Stack, url: string): Promise<number> {
  const all = await stack.takeAll(url);
  return all.length;
}

describe('tim-attr dlq', () => {
  const stack = useStack();

  it('ls counts letters by rule and ErrorCode, and leaves every letter in the queue', async () => {
    // Prepare
    await writeLetters(stack);

    // Act
    const run = await runTimAttr(stack, ['dlq', 'ls', '--json']);
    const table = await runTimAttr(stack, ['dlq', 'ls']);

    // Assess
    expect(run.code).toBe(0);
    expect(jsonOf(run)).toMatchObject({
      letters: 4,
      users: 4,
      groups: [
        { rule: 'im-error-70107', errorCode: '70107', letters: 2, users: 2 },
        { rule: 'attr-name-unregistered', letters: 1, users: 2 },
        { rule: 'body-must-be-json', letters: 1, users: 0 },
      ],
    });
    expect(table.stdout).toMatch(/│ im-error-70107\s+│ 70107\s+│ 2\s+│ 2\s+│/);
    expect(await depth(stack, stack.dlqUrl)).toBe(4);
  });

  it('show prints why and the users, and leaves the letters', async () => {
    // Prepare
    await writeLetters(stack);

    // Act
    const run = await runTimAttr(stack, ['dlq', 'show', '--rule', 'attr-name-unregistered']);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('attr-name-unregistered');
    expect(run.stdout).toContain('req-1');
    expect(run.stdout).toMatch(/│ v2\s+│ \{"vip":"no","city":"Oslo"\}\s+│/);
    expect(run.stdout).not.toContain('im-error-70107');
    expect(await depth(stack, stack.dlqUrl)).toBe(4);
  });

  it('replay --rule sends those letters to the intake queue as one group, oldest first, warns, and deletes only them', async () => {
    // Prepare
    await writeLetters(stack);

    // Act
    const run = await runTimAttr(stack, ['dlq', 'replay', '--rule', 'im-error-70107', '--json']);
    const intake = await stack.takeAll(stack.intakeUrl);
    const left = await stack.takeAll(stack.dlqUrl);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('a dead letter is older than anything applied after it');
    expect(intake.map((m) => JSON.parse(m.Body ?? '') as unknown)).toEqual([
      { UserAttrs: [{ To_Account: 'n1', Attrs: { city: 'Lima' } }] },
      { UserAttrs: [{ To_Account: 'n2', Attrs: { city: 'Rome', tier: null } }] },
    ]);
    expect(new Set(intake.map((m) => m.Attributes?.MessageGroupId)).size).toBe(1);
    expect(intake[0]?.Attributes?.MessageGroupId).toMatch(/^replay-/);
    expect(left.map((m) => m.MessageAttributes?.['rule']?.StringValue).sort()).toEqual([
      'attr-name-unregistered',
      'body-must-be-json',
    ]);
  });

  it('replay --verify skips what IM already holds, holds otherwise, or holds no value for (maybe removed since); --include-absent replays the last', async () => {
    // Prepare: v2's city changed since; n1 is already applied; every other attribute is absent in IM, which a
    // newer null could have caused
    await writeLetters(stack);
    const im = emulatorClient(stack);
    await im.setAttr([
      { To_Account: 'v2', Attrs: { city: 'Bergen' } },
      { To_Account: 'n1', Attrs: { city: 'Lima' } },
    ]);
    im.close();

    // Act
    const careful = await runTimAttr(stack, ['dlq', 'replay', '--verify', '--json']);
    const sentCareful = await stack.takeAll(stack.intakeUrl);
    const included = await runTimAttr(stack, ['dlq', 'replay', '--verify', '--include-absent', '--json']);
    const intake = await stack.takeAll(stack.intakeUrl);
    const left = await stack.takeAll(stack.dlqUrl);

    // Assess
    expect(careful.code).toBe(0);
    expect(sentCareful).toEqual([]);
    expect(jsonOf(careful)).toMatchObject({
      usersSent: 0,
      skipped: expect.arrayContaining([
        { To_Account: 'v1', name: 'vip', reason: 'maybe-removed-since' },
        { To_Account: 'v2', name: 'vip', reason: 'maybe-removed-since' },
        { To_Account: 'v2', name: 'city', reason: 'changed-since' },
        { To_Account: 'n1', name: 'city', reason: 'already-applied' },
        { To_Account: 'n2', name: 'city', reason: 'maybe-removed-since' },
        { To_Account: 'n2', name: 'tier', reason: 'already-applied' },
      ]) as unknown,
    });
    expect(included.code).toBe(0);
    expect(intake.map((m) => JSON.parse(m.Body ?? '') as unknown)).toEqual([
      {
        UserAttrs: [
          { To_Account: 'v1', Attrs: { vip: 'yes' } },
          { To_Account: 'v2', Attrs: { vip: 'no' } },
        ],
      },
      { UserAttrs: [{ To_Account: 'n2', Attrs: { city: 'Rome' } }] },
    ]);
    // The letters with nothing left to write are done; the unreadable one stays.
    expect(left.map((m) => m.MessageAttributes?.['rule']?.StringValue)).toEqual(['body-must-be-json']);
  });

  it('shows tag letters and replays them as {"UserTags"}; --verify skips what IM holds or may have undone', async () => {
    // Prepare: a refused tags letter (the worker's shape); t1 holds vip already, t2 holds trial (added again since?)
    const letters = new SqsDeadLetters({ client: stack.sqs, queueUrl: stack.dlqUrl });
    await letters.send([
      {
        entries: [
          { To_Account: 't1', Add: ['vip', 'gold'] },
          { To_Account: 't2', RemoveAll: true, Add: ['new'] },
          { To_Account: 't3', Remove: ['trial'] },
        ],
        tags: true,
        why: { rule: 'im-error-70107', reason: 'IM refused', requestId: 'req-t', errorCode: 70107 },
      },
    ]);
    const im = emulatorClient(stack);
    await im.call('all_member_push/im_add_tag', {
      UserTags: [
        { To_Account: 't1', Tags: ['vip'] },
        { To_Account: 't2', Tags: ['trial'] },
      ],
    });
    im.close();

    // Act
    const shown = await runTimAttr(stack, ['dlq', 'show']);
    const careful = await runTimAttr(stack, ['dlq', 'replay', '--verify', '--include-absent', '--json']);
    const intake = await stack.takeAll(stack.intakeUrl);
    const left = await stack.takeAll(stack.dlqUrl);

    // Assess
    expect(shown.stdout).toMatch(/│ To_Account\s+│ tag operations\s+│/);
    expect(shown.stdout).toMatch(/│ t2\s+│ \{"RemoveAll":true,"Add":\["new"\]\}\s+│/);
    expect(jsonOf(careful)).toMatchObject({
      usersSent: 2,
      skipped: [
        { To_Account: 't1', name: 'vip', reason: 'already-applied' },
        { To_Account: 't2', name: '(all tags)', reason: 'changed-since' },
        { To_Account: 't3', name: 'trial', reason: 'already-applied' },
      ],
    });
    expect(intake.map((m) => JSON.parse(m.Body ?? '') as unknown)).toEqual([
      {
        UserTags: [
          { To_Account: 't1', Add: ['gold'] },
          { To_Account: 't2', Add: ['new'] },
        ],
      },
    ]);
    expect(left).toEqual([]);
  });

  it('purge asks first: refused without a terminal or --yes, done with --yes', async () => {
    // Prepare
    await writeLetters(stack);

    // Act
    const refused = await runTimAttr(stack, ['dlq', 'purge']);
    const declined = await runTimAttr(stack, ['dlq', 'purge'], { tty: true, stdin: 'no\n' });
    const afterRefusals = await runTimAttr(stack, ['dlq', 'ls', '--json']);
    const purged = await runTimAttr(stack, ['dlq', 'purge', '--yes']);

    // Assess
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('pass --yes');
    expect(declined.code).toBe(1);
    expect(jsonOf(afterRefusals)).toMatchObject({ letters: 4 });
    expect(purged.code).toBe(0);
    expect(await depth(stack, stack.dlqUrl)).toBe(0);
  });
});
