/**
 * `tim-attr tags add|remove|clear` through the local stack: the operations go to the intake queue, the worker moves
 * them into the users' lanes and applies them in order, and `tim-attr get --tags` reads them back. No direct IM
 * tag call is made by the command itself.
 */
import { describe, expect, it } from 'vitest';
import { useStack } from '../helpers/use-stack.ts';
import { jsonOf, runTimAttr } from './cli-harness.ts';

describe('tim-attr tags', () => {
  const stack = useStack({ env: { WORKER_MAX_CONCURRENCY: '2' } });

  it('adds, removes and clears through the intake and the lanes, in order, and get --tags shows each step', async () => {
    // Prepare
    const users = ['--user', 'tc-1', 'tc-2'];
    stack.emulator.resetCounters();

    // Act: the first command with no worker running (it calls no IM itself), then two more, then one read after
    // the queues drained.
    const add = await runTimAttr(stack, ['tags', 'add', 'vip', 'beta', 'vip', ...users]);
    const sentDirectly = stack.emulator.counters.callsByCommand.get('im_add_tag') ?? 0;
    const workers = stack.startWorkers({ concurrency: 2 });
    try {
      const remove = await runTimAttr(stack, ['tags', 'remove', 'beta', ...users, '--json']);
      const clear = await runTimAttr(stack, ['tags', 'clear', '--user', 'tc-2']);
      await stack.drained(30_000);
      const read = await runTimAttr(stack, ['get', 'tc-1', 'tc-2', '--tags', '--json']);

      // Assess
      expect([add.code, remove.code, clear.code, read.code]).toEqual([0, 0, 0, 0]);
      expect(sentDirectly).toBe(0);
      expect(add.stdout).toContain('Queued: add vip, beta for 2 user(s)');
      expect(jsonOf(remove)).toMatchObject({ operation: 'remove', users: 2, tags: ['beta'], messages: 1 });
      const shown = (jsonOf(read) as { users: { To_Account: string; Tags: string[] }[] }).users;
      expect(shown.map((u) => [u.To_Account, u.Tags])).toEqual([
        ['tc-1', ['vip']],
        ['tc-2', []],
      ]);
    } finally {
      await workers.stop();
    }
  }, 60_000);

  it('refuses a tag over 50 bytes or no account as a usage error, and sends nothing', async () => {
    // Act
    const long = await runTimAttr(stack, ['tags', 'add', 'x'.repeat(51), '--user', 'tc-3']);
    const noUser = await runTimAttr(stack, ['tags', 'clear']);
    const intake = await stack.takeAll(stack.intakeUrl);

    // Assess
    expect(long.code).toBe(2);
    expect(long.stderr).toContain('tag 1 must be a non-empty string of at most 50 bytes');
    expect(long.stderr).not.toContain('x'.repeat(51));
    expect(noUser.code).toBe(2);
    expect(intake).toEqual([]);
  });
});
