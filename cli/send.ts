/**
 * `npm run send -- body.json [--url URL] [--secret whsec_…] [--webhook-id ID]`: posts a JSON file to the webhook
 * API, signed per Standard Webhooks, and prints the answer. Exits 1 unless the answer is 2xx. Sending twice with
 * the same `--webhook-id` shows a re-delivery: the second answer is the stored one, nothing applied twice.
 *
 * `npm run send -- body.json --intake [--group ID] [--dedup-id ID]`: sends the file as one message to the intake
 * queue, as another producer would, and prints its message id. The body may be any size up to 1 MiB.
 *
 * Defaults: URL `http://localhost:${PORT or 3000}/v1/user-attrs`, or `/v1/user-tags` for a tags body
 * (`{"UserTags":[…]}` or `{"To_Account":[…]}`); secret WEBHOOK_SECRET, else the local
 * development secret `npm start` uses. Intake queue: INTAKE_QUEUE_URL, else the local stack's queue (found by
 * name at SQS_ENDPOINT, else http://localhost:${SQS_PORT or 4566}); group `send-<hostname>`; a fresh
 * deduplication id (the same id again within 5 minutes adds nothing).
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { resolveTarget } from './config/gateway-target.ts';
import { SQS_MAX_MESSAGE_BYTES } from '../lib/queue/message-format.ts';
import { localCredentials } from '../lib/config/local-credentials.ts';
import { signWebhook } from '../lib/webhook/sign-webhook.ts';

const usage = `usage: npm run send -- <body.json> [--url URL] [--secret whsec_…] [--webhook-id ID]
       npm run send -- <body.json> --intake [--group ID] [--dedup-id ID]`;
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: 'string' },
    secret: { type: 'string' },
    'webhook-id': { type: 'string' },
    intake: { type: 'boolean' },
    group: { type: 'string' },
    'dedup-id': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
const file = positionals[0];
const intake = values.intake === true;
const misplaced = intake
  ? (['url', 'secret', 'webhook-id'] as const).filter((name) => values[name] !== undefined)
  : (['group', 'dedup-id'] as const).filter((name) => values[name] !== undefined);
if (values.help === true || file === undefined || positionals.length > 1 || misplaced.length > 0) {
  if (misplaced.length > 0)
    console.error(`${misplaced.map((n) => `--${n}`).join(', ')} ${intake ? 'cannot go with' : 'needs'} --intake`);
  console.error(usage);
  process.exit(values.help === true ? 0 : 2);
}
/** The body file, or a one-line reason and exit 2 (a missing or unreadable file is the caller's slip, not a crash). */
async function readBody(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error: unknown) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : '';
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory, not a file'
          : code === 'EACCES'
            ? 'cannot be read (permission denied)'
            : 'cannot be read';
    console.error(`${path}: ${why}`);
    console.error(usage);
    return process.exit(2);
  }
}
const payload = await readBody(file);
await (intake ? sendToIntake(payload) : postWebhook(payload));

/** Sends the body to the intake queue, as another producer would. */
async function sendToIntake(payload: string): Promise<void> {
  if (Buffer.byteLength(payload) > SQS_MAX_MESSAGE_BYTES - 100) {
    console.error(
      `an intake message holds at most 1 MiB (${SQS_MAX_MESSAGE_BYTES} bytes with its attributes); ${file} is ${Buffer.byteLength(payload)} bytes`,
    );
    return process.exit(2);
  }
  // The same lookup as the tim-attr CLI: INTAKE_QUEUE_URL, else the local stack's queue by name.
  const target = await resolveTarget({}, process.env);
  const client = target.sqs;
  const queueUrl = await target.queueUrl('intake');
  const group = values.group ?? `send-${hostname()}`;
  const dedupId = values['dedup-id'] ?? `send-${randomUUID()}`;
  const started = performance.now();
  try {
    const answer = await client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: payload,
        MessageGroupId: group,
        MessageDeduplicationId: dedupId,
        // Carried into the worker's logs and any dead letter.
        MessageAttributes: { requestId: { DataType: 'String', StringValue: dedupId } },
      }),
    );
    const ms = Math.round(performance.now() - started);
    console.log(
      `SendMessage ${queueUrl} (${Buffer.byteLength(payload)} bytes, group ${group}, deduplication id ${dedupId}) in ${ms} ms`,
    );
    console.log(`MessageId ${answer.MessageId ?? '(none)'}, SequenceNumber ${answer.SequenceNumber ?? '(none)'}`);
  } catch (error: unknown) {
    console.error(
      `SendMessage ${queueUrl} failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
    );
    process.exitCode = 1;
  } finally {
    target.close();
  }
}

/** Posts the body to the webhook, signed. */
async function postWebhook(payload: string): Promise<void> {
  const route = /^\s*\{\s*"(UserTags|To_Account)"/.test(payload) ? 'user-tags' : 'user-attrs';
  const url = values.url ?? `http://localhost:${process.env['PORT'] ?? '3000'}/v1/${route}`;
  const secret = values.secret ?? localCredentials(process.env).WEBHOOK_SECRET;
  const webhookId = values['webhook-id'];
  const headers = signWebhook({ secret, payload, ...(webhookId === undefined ? {} : { messageId: webhookId }) });

  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: payload,
  });
  const text = await response.text();
  const ms = Math.round(performance.now() - started);

  console.log(
    `POST ${url} (${Buffer.byteLength(payload)} bytes, ${headers['webhook-id']}) → ${response.status} ${response.statusText} in ${ms} ms`,
  );
  try {
    console.log(JSON.stringify(JSON.parse(text), null, 2));
  } catch {
    console.log(text);
  }
  process.exitCode = response.ok ? 0 : 1;
}
