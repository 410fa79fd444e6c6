import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_CREDENTIALS } from '../helpers/factories.ts';
import { jsonOf, runTimAttr } from './cli-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'tim-attr-webhook-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A gateway stand-in: answers 503 to the first request, then 202 naming the second user of each body as rejected. */
async function fakeGateway(): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (received.length === 1) {
        response.writeHead(503).end('{"ErrorCode":1503}');
        return;
      }
      const rejected = {
        To_Account: 'w2',
        Path: 'UserAttrs[1].Attrs.city',
        Rule: 'im-error-70107',
        Reason: 'IM refused the account for good',
      };
      response
        .writeHead(202, { 'content-type': 'application/json' })
        .end(JSON.stringify({ ActionStatus: 'FAIL', ErrorCode: 1001, RejectedUsers: [rejected] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/user-attrs`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('tim-attr push --url (a webhook)', () => {
  it('signs each body per Standard Webhooks, retries a 5xx with the same webhook-id, and files users the gateway refused under their lines', async () => {
    // Prepare
    const gateway = await fakeGateway();
    const file = join(dir, 'users.ndjson');
    writeFileSync(
      file,
      ['{"To_Account":"w1","Attrs":{"city":"Oslo"}}', '{"To_Account":"w2","Attrs":{"city":"Rome"}}'].join('\n'),
    );

    // Act
    const run = await runTimAttr(undefined, [
      'push',
      file,
      '--url',
      gateway.url,
      '--secret',
      TEST_CREDENTIALS.webhookSecret,
      '--attr-names',
      'city',
      '--json',
    ]);
    await gateway.close();

    // Assess
    expect(run.code).toBe(1);
    expect(jsonOf(run)).toMatchObject({ usersSent: 2, messagesSent: 1, rejected: 1, complete: true });
    expect(gateway.received).toHaveLength(2);
    const [first, second] = gateway.received;
    expect(first?.headers['webhook-id']).toBe(second?.headers['webhook-id']);
    const verified = new Webhook(TEST_CREDENTIALS.webhookSecret).verify(second?.body ?? '', {
      'webhook-id': String(second?.headers['webhook-id']),
      'webhook-timestamp': String(second?.headers['webhook-timestamp']),
      'webhook-signature': String(second?.headers['webhook-signature']),
    });
    expect(verified).toEqual({
      UserAttrs: [
        { To_Account: 'w1', Attrs: { city: 'Oslo' } },
        { To_Account: 'w2', Attrs: { city: 'Rome' } },
      ],
    });
    expect(readFileSync(`${file}.rejected.ndjson`, 'utf8')).toBe(
      `${JSON.stringify({ line: 2, To_Account: 'w2', path: 'Attrs.city', rule: 'im-error-70107', reason: 'IM refused the account for good' })}\n`,
    );
    expect(run.stdout + run.stderr).not.toContain(TEST_CREDENTIALS.webhookSecret);
  });
});
