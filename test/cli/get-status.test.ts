import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqsDeadLetters } from '../../lib/queue/sqs-dead-letters.ts';
import { useStack } from '../helpers/use-stack.ts';
import { emulatorClient, jsonOf, runTimAttr } from './cli-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'tim-attr-get-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tim-attr get', () => {
  const stack = useStack();

  it("reads users' attributes 100 accounts a call, from arguments and --file", async () => {
    // Prepare
    const im = emulatorClient(stack);
    await im.setAttr(
      Array.from({ length: 100 }, (_, i) => ({ To_Account: `g-${i}`, Attrs: { city: `c${i}`, tier: 'gold' } })),
    );
    await im.setAttr(Array.from({ length: 50 }, (_, i) => ({ To_Account: `g-${100 + i}`, Attrs: { lang: 'fr' } })));
    im.close();
    const file = join(dir, 'accounts.txt');
    writeFileSync(file, `${Array.from({ length: 149 }, (_, i) => `g-${i + 1}`).join('\n')}\n\n`);
    stack.emulator.resetCounters();

    // Act
    const run = await runTimAttr(stack, ['get', 'g-0', '--file', file, '--json']);
    const table = await runTimAttr(stack, ['get', 'g-1', 'g-120', 'nobody']);

    // Assess
    expect(run.code).toBe(0);
    const { users } = jsonOf(run) as { users: { To_Account: string; Attrs: Record<string, string> }[] };
    expect(users).toHaveLength(150);
    expect(users.find((u) => u.To_Account === 'g-7')).toEqual({
      To_Account: 'g-7',
      Attrs: { city: 'c7', tier: 'gold' },
    });
    expect(users.find((u) => u.To_Account === 'g-149')).toEqual({ To_Account: 'g-149', Attrs: { lang: 'fr' } });
    expect(stack.emulator.counters.callsByCommand.get('im_get_attr')).toBe(2 + 1);
    expect(table.stdout).toMatch(/│ To_Account\s+│ city\s+│ tier\s+│ lang\s+│/);
    expect(table.stdout).toMatch(/│ g-120\s+│\s+│\s+│ fr\s+│/);
    expect(table.stdout).toMatch(/│ nobody\s+│\s+│\s+│\s+│/);
  });

  it("shows each user's tags with --tags (im_get_tag, one more call per 100 accounts), and none without", async () => {
    // Prepare
    const im = emulatorClient(stack);
    await im.setAttr([{ To_Account: 't-1', Attrs: { city: 'Lima' } }]);
    await im.call('all_member_push/im_add_tag', {
      UserTags: [
        { To_Account: 't-1', Tags: ['vip', 'beta'] },
        { To_Account: 't-2', Tags: ['churn-risk'] },
      ],
    });
    im.close();
    stack.emulator.resetCounters();

    // Act
    const run = await runTimAttr(stack, ['get', 't-1', 't-2', 't-3', '--tags', '--json']);
    const table = await runTimAttr(stack, ['get', 't-1', 't-2', '--tags']);
    const plain = await runTimAttr(stack, ['get', 't-1', '--json']);

    // Assess
    expect(run.code).toBe(0);
    expect((jsonOf(run) as { users: unknown[] }).users).toEqual([
      { To_Account: 't-1', Attrs: { city: 'Lima' }, Tags: ['vip', 'beta'] },
      { To_Account: 't-2', Attrs: {}, Tags: ['churn-risk'] },
      { To_Account: 't-3', Attrs: {}, Tags: [] },
    ]);
    expect(table.stdout).toMatch(/│ To_Account\s+│ city\s+│ tags\s+│/);
    expect(table.stdout).toMatch(/│ t-1\s+│ Lima\s+│ vip, beta\s+│/);
    expect((jsonOf(plain) as { users: unknown[] }).users).toEqual([{ To_Account: 't-1', Attrs: { city: 'Lima' } }]);
    expect(stack.emulator.counters.callsByCommand.get('im_get_tag')).toBe(2);
  });

  it('paces its calls at --rate', async () => {
    // Prepare
    const accounts = Array.from({ length: 600 }, (_, i) => `p-${i}`);
    const started = performance.now();

    // Act: 6 calls at 4 a second cannot all start within the first second.
    const run = await runTimAttr(stack, ['get', ...accounts, '--rate', '4', '--json']);

    // Assess
    expect(run.code).toBe(0);
    expect(performance.now() - started).toBeGreaterThan(1000);
  });

  it('refuses an account over 32 bytes, naming where it is and the rule', async () => {
    // Act
    const run = await runTimAttr(stack, ['get', 'ok', 'x'.repeat(33)]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'account 2 of the command line is 33 bytes; an account is at most 32 bytes in UTF-8 [to-account-max-32-bytes]',
    );
  });
});

describe('tim-attr status', () => {
  const stack = useStack();

  it("shows queue depths, dead letters by rule, the gateway's tables and IM", async () => {
    // Prepare
    await stack.sendIntake('{"UserAttrs":[]}', { groupId: 'g1' });
    await stack.sendIntake('{"UserAttrs":[]}', { groupId: 'g2' });
    await new SqsDeadLetters({ client: stack.sqs, queueUrl: stack.dlqUrl }).send([
      {
        entries: [{ To_Account: 'a', Attrs: { x: '1' } }],
        why: { rule: 'attr-name-unregistered', reason: 'r', requestId: 'q' },
      },
    ]);

    // Act
    const run = await runTimAttr(stack, ['status', '--json']);
    const table = await runTimAttr(stack, ['status']);

    // Assess
    expect(run.code).toBe(0);
    expect(jsonOf(run)).toMatchObject({
      queues: [
        { queue: 'lanes', visible: 0, inFlight: 0, oldestAgeSeconds: null },
        { queue: 'intake', visible: 2, inFlight: 0, oldestAgeSeconds: null },
        { queue: 'deadLetter', visible: 1, inFlight: 0 },
      ],
      lanesDrained: true,
      deadLetters: [{ rule: 'attr-name-unregistered', letters: 1, users: 1 }],
      tables: [
        { table: 'idempotency', name: stack.tableName, status: 'ACTIVE' },
        { table: 'budget', name: stack.budgetTableName, status: 'ACTIVE' },
      ],
      im: { reachable: true, names: 4 },
    });
    expect(table.stdout).toContain('Lanes: drained (nothing visible, in flight or delayed).');
    expect(table.stdout).toMatch(
      /│ intake\s+│ tim-attr-gateway-test-intake\.fifo\s+│ 2\s+│ 0\s+│ 0\s+│ n\/a \(no CloudWatch locally\)\s+│/,
    );
    // status made the letter it read visible again.
    expect(await stack.takeAll(stack.dlqUrl)).toHaveLength(1);
  });

  it('says the lanes are not drained while a lane message waits (a change of laneCount must wait for it)', async () => {
    // Prepare
    await stack.sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.lanesUrl,
        MessageBody: '{"UserAttrs":[]}',
        MessageGroupId: 'lane-3',
        MessageDeduplicationId: 'drain-check',
      }),
    );

    // Act
    const run = await runTimAttr(stack, ['status', '--json']);

    // Assess
    expect(jsonOf(run)).toMatchObject({ lanesDrained: false });
    await stack.takeAll(stack.lanesUrl);
  });

  it('checks every table the environment names, and fails (exit 1) when one is missing', async () => {
    // Act
    const run = await runTimAttr(stack, ['status', '--json'], {
      env: { BUDGET_TABLE: 'tim-attr-gateway-test-missing' },
    });

    // Assess
    expect(run.code).toBe(1);
    expect(jsonOf(run)).toMatchObject({
      tables: [
        { table: 'idempotency', status: 'ACTIVE' },
        {
          table: 'budget',
          name: 'tim-attr-gateway-test-missing',
          error: expect.stringContaining('ResourceNotFoundException') as unknown,
        },
      ],
    });
  });
});

describe('tim-attr help and usage errors', () => {
  it.each([
    ['names'],
    ['names', 'set'],
    ['get'],
    ['push'],
    ['dlq', 'ls'],
    ['dlq', 'show'],
    ['dlq', 'replay'],
    ['dlq', 'purge'],
    ['status'],
  ])('%s --help shows an example and exits 0', async (...command) => {
    // Act
    const run = await runTimAttr(undefined, [...command, '--help']);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Examples?:\n {2}tim-attr /);
    expect(run.stdout).toContain('--json');
  });

  it.each([
    [['bogus'], "unknown command 'bogus'"],
    [['get', '--rate', '0', 'u1'], "option '--rate <calls>' argument '0' is invalid"],
    [['push', 'users.txt', '--dry-run'], 'users.txt: no such file'],
    [['push', 'x.csv', '--format', 'xml'], "argument 'xml' is invalid"],
    [['names', '--region', 'eu-west-1'], '--region needs --stage'],
  ])('%j is a usage error (exit 2)', async (args, says) => {
    // Act
    const run = await runTimAttr(undefined, args);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(says);
  });
});
