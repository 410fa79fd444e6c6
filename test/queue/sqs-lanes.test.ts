import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  type SendMessageBatchRequestEntry,
} from '@aws-sdk/client-sqs';
import { createHash } from 'node:crypto';
import { mockClient } from 'aws-sdk-client-mock';
import { startFauxqs } from 'fauxqs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { laneOf } from '../../lib/core/lanes/lane-of.ts';
import { planLaneMessages } from '../../lib/core/lanes/lane-plan.ts';
import { SqsDeadLetters } from '../../lib/queue/sqs-dead-letters.ts';
import { SqsLanes } from '../../lib/queue/sqs-lanes.ts';
import { makeUsers } from '../helpers/factories.ts';

const QUEUE_URL = 'https://sqs.ap-southeast-1.amazonaws.com/123456789012/tim-attr-gateway-test-lanes.fifo';
// Messages of 100 users, so a few hundred users make several messages per lane.
const SMALL = { maxUsers: 100, maxBytes: 900_000 };
const META = { requestId: 'req-1', origin: 'api' };
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('SqsLanes (SDK boundary)', () => {
  // Mocked only here, to inject failures; the describe below talks to fauxqs.
  let sqs = mockClient(SQSClient);
  beforeEach(() => {
    sqs = mockClient(SQSClient);
  });
  afterEach(() => sqs.restore());
  const calls = (): SendMessageBatchRequestEntry[][] =>
    sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries ?? []);

  it('sends at most one message per lane in each call, with the lane as message group and the dedup id', async () => {
    // Prepare
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => ({
      Successful: input.Entries.map((e) => ({ Id: e.Id })),
      Failed: [],
    }));
    const messages = planLaneMessages(makeUsers(1000), 4, 'hook-1', SMALL);
    const lanes = new SqsLanes({ client: new SQSClient({ region: 'ap-southeast-1' }), queueUrl: QUEUE_URL });

    // Act
    const unsent = await lanes.enqueue(messages, META);

    // Assess
    expect(unsent).toEqual([]);
    for (const entries of calls()) expect(new Set(entries.map((e) => e.MessageGroupId)).size).toBe(entries.length);
    const sent = calls().flat();
    expect(sent).toHaveLength(messages.length);
    expect(new Set(sent.map((e) => e.MessageDeduplicationId))).toEqual(new Set(messages.map((m) => m.dedupId)));
    // Within each lane, messages went out in their positions' order.
    for (const lane of [0, 1, 2, 3]) {
      const order = sent.filter((e) => e.MessageGroupId === `lane-${lane}`).map((e) => e.MessageDeduplicationId);
      expect(order).toEqual(messages.filter((m) => m.lane === lane).map((m) => m.dedupId));
    }
  });

  it('stops a lane at its first message that keeps failing and reports it with every later message of that lane', async () => {
    // Prepare
    const messages = planLaneMessages(makeUsers(800), 2, 'hook-2', SMALL);
    const doomed = messages.find((m) => m.lane === 1 && m.position === 1);
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => ({
      Successful: input.Entries.filter((e) => e.MessageDeduplicationId !== doomed?.dedupId).map((e) => ({ Id: e.Id })),
      Failed: input.Entries.filter((e) => e.MessageDeduplicationId === doomed?.dedupId).map((e) => ({
        Id: e.Id,
        Code: 'ServiceUnavailable',
        SenderFault: false,
      })),
    }));
    const lanes = new SqsLanes({
      client: new SQSClient({ region: 'ap-southeast-1' }),
      queueUrl: QUEUE_URL,
      attempts: 3,
    });

    // Act
    const unsent = await lanes.enqueue(messages, META);

    // Assess
    expect(unsent.map((m) => [m.lane, m.position])).toEqual(
      messages.filter((m) => m.lane === 1 && m.position >= 1).map((m) => [m.lane, m.position]),
    );
    const sentLane1 = calls()
      .flat()
      .filter((e) => e.MessageGroupId === 'lane-1')
      .map((e) => e.MessageDeduplicationId);
    expect(sentLane1.filter((id) => id === doomed?.dedupId)).toHaveLength(3);
    expect(sentLane1.at(-1)).toBe(doomed?.dedupId);
    expect(
      calls()
        .flat()
        .filter((e) => e.MessageGroupId === 'lane-0'),
    ).toHaveLength(messages.filter((m) => m.lane === 0).length);
  });
});

describe('SqsLanes and SqsDeadLetters against fauxqs', () => {
  it('a re-send with the same key adds nothing twice; a lane comes back in order with null removals kept', async () => {
    // Prepare
    const server = await startFauxqs({ port: 0, logger: false });
    const client = new SQSClient({
      region: 'ap-southeast-1',
      endpoint: `http://127.0.0.1:${server.port}`,
      credentials: { accessKeyId: 't', secretAccessKey: 't' },
    });
    try {
      const { QueueUrl = '' } = await client.send(
        new CreateQueueCommand({
          QueueName: 'lanes-test.fifo',
          Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false' },
        }),
      );
      const users = [...makeUsers(150), { To_Account: 'gone', Attrs: { city: null } }];
      const messages = planLaneMessages(users, 1, 'hook-3', SMALL);
      const lanes = new SqsLanes({ client, queueUrl: QueueUrl });

      // Act
      await lanes.enqueue(messages, META);
      await lanes.enqueue(messages, META);
      const bodies: string[] = [];
      for (;;) {
        const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
        if (Messages.length === 0) break;
        bodies.push(...Messages.map((m) => m.Body ?? ''));
        await client.send(
          new DeleteMessageBatchCommand({
            QueueUrl,
            Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
          }),
        );
      }

      // Assess
      const received = bodies.flatMap(
        (b) =>
          (JSON.parse(b) as { UserAttrs: { To_Account: string; Attrs: Record<string, string | null> }[] }).UserAttrs,
      );
      expect(received.map((u) => u.To_Account)).toEqual(users.map((u) => u.To_Account));
      expect(received.at(-1)).toEqual({ To_Account: 'gone', Attrs: { city: null } });
      expect(laneOf('gone', 1)).toBe(0);
    } finally {
      client.destroy();
      await server.stop();
    }
  });

  it('splits a dead letter over 1 MiB and writes every part with its reason', async () => {
    // Prepare
    const server = await startFauxqs({ port: 0, logger: false });
    const client = new SQSClient({
      region: 'ap-southeast-1',
      endpoint: `http://127.0.0.1:${server.port}`,
      credentials: { accessKeyId: 't', secretAccessKey: 't' },
    });
    try {
      const { QueueUrl = '' } = await client.send(
        new CreateQueueCommand({ QueueName: 'dlq-test', Attributes: { MaximumMessageSize: '1048576' } }),
      );
      const entries = Array.from({ length: 40 }, (_, i) => ({
        To_Account: `u-${i}`,
        Attrs: { note: 'x'.repeat(40_000) },
      }));
      const letters = new SqsDeadLetters({ client, queueUrl: QueueUrl });

      // Act
      await letters.send([
        {
          entries,
          why: {
            rule: 'attr-name-unregistered',
            reason: 'UserAttrs[0].Attrs.note is not registered',
            requestId: 'req-9',
            records: ['m-1'],
          },
        },
      ]);
      const got: { body: string; rule: string | undefined }[] = [];
      for (;;) {
        const { Messages = [] } = await client.send(
          new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }),
        );
        if (Messages.length === 0) break;
        got.push(...Messages.map((m) => ({ body: m.Body ?? '', rule: m.MessageAttributes?.['rule']?.StringValue })));
      }

      // Assess
      expect(got.length).toBeGreaterThan(1);
      expect(got.every((g) => g.rule === 'attr-name-unregistered')).toBe(true);
      const accounts = got.flatMap((g) =>
        (JSON.parse(g.body) as { UserAttrs: { To_Account: string }[] }).UserAttrs.map((u) => u.To_Account),
      );
      expect(accounts.sort()).toEqual(entries.map((e) => e.To_Account).sort());
    } finally {
      client.destroy();
      await server.stop();
    }
  });

  it('dead-letters a poison message near 1 MiB: the letter keeps its rule and reason and carries the body cut to fit, with its size and hash', async () => {
    // Prepare: a raw body SQS took (1 MiB less a little) and a one-entry letter whose value alone is 1 MB
    const server = await startFauxqs({ port: 0, logger: false });
    const client = new SQSClient({
      region: 'ap-southeast-1',
      endpoint: `http://127.0.0.1:${server.port}`,
      credentials: { accessKeyId: 't', secretAccessKey: 't' },
    });
    try {
      const { QueueUrl = '' } = await client.send(
        new CreateQueueCommand({ QueueName: 'dlq-poison', Attributes: { MaximumMessageSize: '1048576' } }),
      );
      const raw = `not json ${'é'.repeat(524_245)}`; // 1,048,499 bytes: it fits SQS alone, not with a reason beside it
      const entry = { To_Account: 'big', Attrs: { city: 'x'.repeat(1_048_500) } };
      const letters = new SqsDeadLetters({ client, queueUrl: QueueUrl });
      const why = (rule: string) => ({ rule, reason: `the reason for ${rule}`, requestId: 'req-p', records: ['m-p'] });

      // Act
      await letters.send([
        { raw, why: why('body-must-be-json') },
        { entries: [entry], why: why('value-max-50-bytes') },
      ]);
      const got: { body: string; attrs: Record<string, string | undefined> }[] = [];
      for (;;) {
        const { Messages = [] } = await client.send(
          new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }),
        );
        if (Messages.length === 0) break;
        got.push(
          ...Messages.map((m) => ({
            body: m.Body ?? '',
            attrs: Object.fromEntries(Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue])),
          })),
        );
      }

      // Assess
      const byRule = new Map(got.map((g) => [g.attrs['rule'], g]));
      const rawLetter = byRule.get('body-must-be-json');
      const entryLetter = byRule.get('value-max-50-bytes');
      const entryBody = JSON.stringify({ UserAttrs: [entry] });
      expect(rawLetter?.attrs).toMatchObject({
        reason: 'the reason for body-must-be-json',
        bodyBytes: String(Buffer.byteLength(raw)),
        bodySha256: sha256(raw),
      });
      expect(raw.startsWith(rawLetter?.body ?? '-')).toBe(true);
      expect(Buffer.byteLength(rawLetter?.body ?? '')).toBeGreaterThan(1_000_000);
      expect(entryLetter?.attrs).toMatchObject({
        requestId: 'req-p',
        bodyBytes: String(Buffer.byteLength(entryBody)),
        bodySha256: sha256(entryBody),
      });
      expect(entryBody.startsWith(entryLetter?.body ?? '-')).toBe(true);
    } finally {
      client.destroy();
      await server.stop();
    }
  });
});

describe("SqsDeadLetters: a letter SQS refuses as the sender's fault", () => {
  it('is written once more without its body, keeping its reason, size and hash; a bare letter refused again fails', async () => {
    // Prepare
    const sqs = mockClient(SQSClient);
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Failed: [{ Id: '0', Code: 'InvalidMessageContents', SenderFault: true }] })
      .resolves({ Successful: [{ Id: '0', MessageId: 'x', MD5OfMessageBody: '' }] });
    const letters = new SqsDeadLetters({
      client: new SQSClient({ region: 'ap-southeast-1' }),
      queueUrl: 'https://sqs.test/dlq',
    });

    // Act
    await letters.send([{ raw: 'odd body', why: { rule: 'body-must-be-json', reason: 'r', requestId: 'q' } }]);

    // Assess
    const sent = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries?.[0]);
    expect(sent).toHaveLength(2);
    expect(sent[1]?.MessageBody).not.toContain('odd body');
    expect(sent[1]?.MessageAttributes?.['rule']?.StringValue).toBe('body-must-be-json');
    expect(sent[1]?.MessageAttributes?.['bodySha256']?.StringValue).toBe(sha256('odd body'));

    // Act / Assess: refused again without its body, it is not retried for ever
    sqs.reset();
    sqs
      .on(SendMessageBatchCommand)
      .resolves({ Failed: [{ Id: '0', Code: 'InvalidMessageContents', SenderFault: true }] });
    await expect(
      letters.send([{ raw: 'odd body', why: { rule: 'body-must-be-json', reason: 'r', requestId: 'q' } }]),
    ).rejects.toThrow(/even without its body/);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(2);
    sqs.restore();
  });
});
