import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { useStack } from '../helpers/use-stack.ts';
import { writeCsvBackfill, writeNdjsonUsers } from './backfill-files.ts';
import { emulatorClient, jsonOf, runTimAttr } from './cli-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'tim-attr-push-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The accounts of intake messages, message by message, in the order the queue hands them out. */
function accountsOf(messages: readonly Message[]): string[] {
  return messages.flatMap((m) => {
    const body: unknown = JSON.parse(m.Body ?? '{}');
    const users =
      typeof body === 'object' && body !== null && 'UserAttrs' in body && Array.isArray(body.UserAttrs)
        ? (body.UserAttrs as { To_Account: string }[])
        : [];
    return users.map((u) => u.To_Account);
  });
}

function rejectedLines(
  file: string,
): { line?: number; entry?: number; rule: string; path: string; To_Account: string | null }[] {
  return readFileSync(`${file}.rejected.ndjson`, 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map(
      (l) => JSON.parse(l) as { line?: number; entry?: number; rule: string; path: string; To_Account: string | null },
    );
}

describe('tim-attr push', () => {
  // No rate limit in the emulator, and a worker budget to match, so 1,000 im_set_attr calls take a second or two.
  const stack = useStack({ emulatorRateLimit: 0 });

  it('--dry-run checks with the gateway rules and sends nothing', async () => {
    // Prepare
    const file = join(dir, 'dry.ndjson');
    writeFileSync(
      file,
      [
        '{"To_Account":"d1","Attrs":{"city":"Paris"}}',
        '{"To_Account":"d2","Attrs":{"colour":"red"}}',
        'not json',
        '',
        '{"To_Account":"d3","Attrs":{"city":null}}',
        '[1,2]',
        '{"To_Account":"d4","Attrs":{"tier":7}}',
      ].join('\n'),
    );

    // Act
    const run = await runTimAttr(stack, ['push', file, '--dry-run', '--json']);

    // Assess
    expect(run.code).toBe(1);
    expect(jsonOf(run)).toMatchObject({ dryRun: true, read: 6, rejected: 4, usersSent: 0, messagesSent: 0 });
    expect(rejectedLines(file)).toEqual([
      {
        line: 2,
        To_Account: 'd2',
        path: 'Attrs.colour',
        rule: 'attr-name-unregistered',
        reason: 'Attrs.colour is not an attribute name registered for the app [attr-name-unregistered].',
      },
      {
        line: 3,
        To_Account: null,
        path: '',
        rule: 'line-must-be-json',
        reason: 'line 3 is not a JSON value [line-must-be-json].',
      },
      {
        line: 6,
        To_Account: null,
        path: '',
        rule: 'user-must-be-object',
        reason: 'line 6 must be an object with To_Account and Attrs [user-must-be-object].',
      },
      {
        line: 7,
        To_Account: 'd4',
        path: 'Attrs.tier',
        rule: 'value-must-be-string',
        reason: 'Attrs.tier must be a string, or null to remove the attribute (it is a number) [value-must-be-string].',
      },
    ]);
    expect(await stack.takeAll(stack.intakeUrl)).toEqual([]);
    expect(existsSync(`${file}.checkpoint.json`)).toBe(false);
  });

  it("reads JSON in IM's body shape and names refused entries by their index", async () => {
    // Prepare
    const file = join(dir, 'body.json');
    writeFileSync(
      file,
      JSON.stringify({
        UserAttrs: [
          { To_Account: 'j1', Attrs: { city: 'Oslo' } },
          { To_Account: 'j2', Attrs: {} },
          { To_Account: 'j3', Attrs: { lang: 'fr' } },
        ],
      }),
    );

    // Act
    const run = await runTimAttr(stack, ['push', file, '--json']);

    // Assess
    expect(run.code).toBe(1);
    expect(rejectedLines(file)).toEqual([
      {
        entry: 2,
        To_Account: 'j2',
        path: 'Attrs',
        rule: 'attrs-must-not-be-empty',
        reason: 'Attrs must hold at least one attribute [attrs-must-not-be-empty].',
      },
    ]);
    const messages = await stack.takeAll(stack.intakeUrl);
    expect(accountsOf(messages)).toEqual(['j1', 'j3']);
    expect(messages[0]?.Attributes?.MessageGroupId).toMatch(/^push-[0-9a-f]{16}$/);
  });

  it('after Ctrl-C, finishes the batch in flight and exits 130; --resume sends the rest, each user once, in file order', async () => {
    // Prepare
    const file = join(dir, 'interrupted.ndjson');
    const accounts = writeNdjsonUsers(file, 5000);

    // Act: Ctrl-C as soon as the push listens for it, before its first batch went out.
    const first = await runTimAttr(stack, ['push', file, '--message-bytes', '2000', '--json'], {
      onInterruptRegistered: (press) => press(),
    });
    const checkpoint = JSON.parse(readFileSync(`${file}.checkpoint.json`, 'utf8')) as {
      sentThrough: number;
      messagesSent: number;
      runId: string;
    };
    const queuedAfterFirst = await stack.takeAll(stack.intakeUrl);
    const again = await runTimAttr(stack, ['push', file]);
    const resumed = await runTimAttr(stack, ['push', file, '--resume', '--json']);
    const queuedAfterResume = await stack.takeAll(stack.intakeUrl);

    // Assess
    expect(first.code).toBe(130);
    expect(first.stderr).toContain('Finishing the batch in flight');
    expect(jsonOf(first)).toMatchObject({ interrupted: true, complete: false, messagesSent: 10 });
    // One batch: ten messages, and the checkpoint covers exactly their users.
    expect(queuedAfterFirst).toHaveLength(checkpoint.messagesSent);
    expect(accountsOf(queuedAfterFirst)).toEqual(accounts.slice(0, checkpoint.sentThrough));
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('Pass --resume to send the rest, or --restart');
    expect(resumed.code).toBe(0);
    expect(jsonOf(resumed)).toMatchObject({ complete: true, sentThrough: 5000, usersSent: 5000 });
    expect(accountsOf([...queuedAfterFirst, ...queuedAfterResume])).toEqual(accounts);
    const dedupIds = [...queuedAfterFirst, ...queuedAfterResume].map((m) => m.Attributes?.MessageDeduplicationId);
    expect(new Set(dedupIds).size).toBe(dedupIds.length);
    expect(dedupIds[0]).toBe(`push-${checkpoint.runId}-1`);
    expect(existsSync(`${file}.checkpoint.json`)).toBe(false);
  });

  it('refuses a CSV whose header names an attribute the app has not registered (exit 2), before reading a row', async () => {
    // Prepare
    const file = join(dir, 'nickname.csv');
    writeFileSync(file, 'To_Account,city,nickname\nu1,Paris,Bee\n');

    // Act
    const run = await runTimAttr(stack, ['push', file]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('column 3 of the header, "nickname", is not an attribute name registered for the app');
    expect(run.stderr).toContain('[attr-name-unregistered]');
    expect(await stack.takeAll(stack.intakeUrl)).toEqual([]);
    // A refused push leaves nothing behind: the corrected file is pushed as new, not refused for a checkpoint.
    expect(existsSync(`${file}.checkpoint.json`)).toBe(false);
    expect(existsSync(`${file}.rejected.ndjson`)).toBe(false);
    writeFileSync(file, 'To_Account,city\nu1,Paris\n');
    const fixed = await runTimAttr(stack, ['push', file]);
    expect(fixed.code).toBe(0);
    expect(accountsOf(await stack.takeAll(stack.intakeUrl))).toEqual(['u1']);
  });

  it('refuses a plain http:// --url to another host, and names the host and the secret it signs for', async () => {
    // Prepare
    const file = join(dir, 'signed.ndjson');
    writeFileSync(file, '{"To_Account":"s1","Attrs":{"city":"Oslo"}}\n');

    const gateway = createServer(
      (_request, response) =>
        void response.writeHead(202, { 'content-type': 'application/json' }).end('{"ErrorCode":0}'),
    );
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    const { port } = gateway.address() as AddressInfo;

    // Act
    const plain = await runTimAttr(stack, ['push', file, '--url', 'http://gateway.example.com/v1/user-attrs']);
    const local = await runTimAttr(stack, ['push', file, '--url', `http://127.0.0.1:${port}/v1/user-attrs`]);
    gateway.close();

    // Assess
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain(
      '--url must use https:// (plain http:// only to localhost): http://gateway.example.com',
    );
    expect(local.code).toBe(0);
    expect(local.stderr).toContain(`Signing requests to 127.0.0.1:${port} with WEBHOOK_SECRET.`);
  });

  it('refuses to resume a file that changed since its checkpoint', async () => {
    // Prepare
    const file = join(dir, 'changed.ndjson');
    writeNdjsonUsers(file, 2000);
    await runTimAttr(stack, ['push', file, '--message-bytes', '2000'], { onInterruptRegistered: (press) => press() });
    writeFileSync(file, `${readFileSync(file, 'utf8')}{"To_Account":"late","Attrs":{"city":"Rome"}}\n`);

    // Act
    const run = await runTimAttr(stack, ['push', file, '--resume']);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('changed since the checkpoint (its size');
    expect(run.stderr).toContain('[checkpoint-file-changed]');
  });

  // Last: stopped workers may leave a long poll open on the local SQS for a second, which would take a later test's message.
  it('backfills a 100,000-line CSV with 1 % bad lines: every good user applied, every bad line rejected with its line and rule', async () => {
    // Prepare
    const file = join(dir, 'backfill.csv');
    const backfill = writeCsvBackfill(file, 100_000, 200);
    const im = emulatorClient(stack);
    for (let i = 0; i < 200; i += 100)
      await im.setAttr(Array.from({ length: 100 }, (_, k) => ({ To_Account: `bf-${i + k}`, Attrs: { tier: 'seed' } })));
    im.close();

    // Act
    const run = await runTimAttr(stack, ['push', file, '--json', '--progress-every', '0.1']);
    const workers = stack.startWorkers({ env: { IM_RATE_LIMIT: '2000' } });
    try {
      await stack.drained(60_000);
    } finally {
      await workers.stop();
    }

    // Assess
    expect(run.code).toBe(1);
    expect(jsonOf(run)).toMatchObject({
      format: 'csv',
      read: 100_000,
      rejected: 1000,
      usersSent: 99_000,
      complete: true,
      interrupted: false,
    });
    const wrong = [...backfill.expected].filter(
      ([account, attrs]) =>
        JSON.stringify(stack.emulator.attrs.get(account) ?? {}, Object.keys(attrs).sort()) !==
          JSON.stringify(attrs, Object.keys(attrs).sort()) ||
        Object.keys(stack.emulator.attrs.get(account) ?? {}).length !== Object.keys(attrs).length,
    );
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(stack.emulator.attrs.get('bf-0')).toMatchObject({ tier: 'seed' });
    expect(stack.emulator.attrs.get('bf-1')).not.toHaveProperty('tier');
    const rejected = rejectedLines(file).map((r) => ({ line: r.line, rule: r.rule, path: r.path }));
    expect(rejected).toEqual(backfill.bad);
    // Accounts of bad lines never reach IM (those below 200 were seeded before the push).
    expect(backfill.expected.size).toBe(99_000);
    const badAccounts = Array.from({ length: 1000 }, (_, k) => `bf-${k * 100 + 50}`).filter(
      (a) => Number(a.slice(3)) >= 200,
    );
    expect(badAccounts.filter((a) => stack.emulator.attrs.has(a))).toEqual([]);
    // Without a terminal: plain periodic lines, and not one escape code.
    expect(run.stderr).not.toContain('\u001b');
    expect(
      run.stderr
        .split('\n')
        .filter((l) => /^pushed: \d+% of \d+ bytes, \d+ lines, \d+ users, \d+ users\/s, ETA \S+, \d+ rejected$/.test(l))
        .length,
    ).toBeGreaterThan(1);
  }, 120_000);
  it('takes a Tags column (+add;-remove;-* remove-all) and NDJSON tag entries through the intake; refuses them with --url', async () => {
    // Prepare
    const csv = join(dir, 'tags.csv');
    writeFileSync(
      csv,
      [
        'To_Account,city,Tags',
        'pt-1,Paris,+vip;+beta',
        'pt-2,,-*;+fresh',
        'pt-3,Oslo,',
        `pt-4,,+${'x'.repeat(51)}`,
      ].join('\n'),
    );
    const ndjson = join(dir, 'tags.ndjson');
    writeFileSync(
      ndjson,
      [
        '{"To_Account":"pt-1","Remove":["beta"],"Add":["gold"]}',
        '{"To_Account":"pt-3","Attrs":{"tier":"t1"},"Add":["new"]}',
        '{"To_Account":"pt-5","RemoveAll":false}',
      ].join('\n'),
    );
    const im = emulatorClient(stack);
    await im.call('all_member_push/im_add_tag', { UserTags: [{ To_Account: 'pt-2', Tags: ['old'] }] });
    im.close();

    // Act
    // The files are two producers (a message group each): the second is pushed once the first is applied.
    const workers = stack.startWorkers({ env: { IM_RATE_LIMIT: '2000' } });
    let first, second;
    try {
      first = await runTimAttr(stack, ['push', csv, '--json']);
      await stack.drained(60_000);
      second = await runTimAttr(stack, ['push', ndjson, '--json']);
      await stack.drained(60_000);
    } finally {
      await workers.stop();
    }
    const ndjsonRejected = rejectedLines(ndjson).map((r) => [r.line, r.path, r.rule]);
    const hook = await runTimAttr(stack, [
      'push',
      ndjson,
      '--url',
      'http://localhost:1/v1/user-attrs',
      '--secret',
      'whsec_dGVzdA==',
    ]);

    // Assess
    expect(jsonOf(first)).toMatchObject({ read: 4, rejected: 1, usersSent: 3 });
    expect(jsonOf(second)).toMatchObject({ read: 3, rejected: 1, usersSent: 2 });
    const tagsOf = (account: string): string[] => [...(stack.emulator.tags.get(account) ?? [])].sort();
    expect([tagsOf('pt-1'), tagsOf('pt-2'), tagsOf('pt-3'), tagsOf('pt-4')]).toEqual([
      ['gold', 'vip'],
      ['fresh'],
      ['new'],
      [],
    ]);
    expect(stack.emulator.attrs.get('pt-1')).toEqual({ city: 'Paris' });
    expect(stack.emulator.attrs.get('pt-3')).toEqual({ city: 'Oslo', tier: 't1' });
    expect(rejectedLines(csv).map((r) => [r.line, r.rule])).toEqual([[5, 'tag-max-50-bytes']]);
    expect(ndjsonRejected).toEqual([[3, 'RemoveAll', 'remove-all-must-be-true']]);
    expect(hook.code).toBe(2);
    expect(hook.stderr).toContain('[push-tags-need-intake]');
  }, 60_000);
});
