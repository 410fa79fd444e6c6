/**
 * The worker's use case: each SQS record (an overflow chunk, or a producer's `{"UserAttrs":[...]}` of any
 * size) is validated, chunked and applied. Transient trouble leaves the record failed for SQS to deliver
 * again (its redrive policy bounds that); anything permanent goes to the dead-letter queue at once, with its
 * reason, in the same body shape so it can be replayed.
 */
import type { SQSRecord } from 'aws-lambda';
import { applyChunks } from '../dispatch/apply-chunks.ts';
import type { AttrSetter, DispatchResult } from '../dispatch/types.ts';
import type { AttrNameSource } from '../attr-names/registered-names.ts';
import { ATTR, userAttrsBody, type OutgoingMessage } from '../queue/message-format.ts';
import type { QueuePublisher } from '../queue/queue-publisher.ts';
import { sqsSafeJson, sqsSafeText } from '../queue/sqs-text.ts';
import { chunk } from '../rules/chunk.ts';
import { RequestShapeError } from '../rules/request-shape-error.ts';
import type { Rejection } from '../rules/types.ts';
import { validateUsers } from '../rules/validate-users.ts';

export interface ProcessQueueDeps {
  readonly im: AttrSetter;
  readonly attrNames: AttrNameSource;
  readonly deadLetters: QueuePublisher;
  /** Where the unfinished remainder of a large producer message is put back as chunks. */
  readonly overflow: QueuePublisher;
}

export interface RecordOutcome {
  readonly messageId: string;
  /** True when SQS must deliver the record again. */
  readonly failed: boolean;
  readonly received: number;
  readonly applied: number;
  /** Users put back on the overflow queue as chunks. */
  readonly requeued: number;
  /** Users (or, for unreadable bodies, 1 message) sent to the dead-letter queue. */
  readonly deadLettered: number;
  /** Users left for SQS to deliver again. */
  readonly retrying: number;
}

export interface QueueBatchOutcome {
  readonly records: readonly RecordOutcome[];
  /** messageIds to report in `batchItemFailures`. */
  readonly failedIds: readonly string[];
}

export async function processQueueBatch(deps: ProcessQueueDeps, records: readonly SQSRecord[], deadlineMs: number): Promise<QueueBatchOutcome> {
  const allowedNames = await deps.attrNames.current();
  // Records run side by side: the IM client's limiter paces the calls, and the deadline bounds them.
  const outcomes = await Promise.all(records.map((record) => processRecord(deps, record, allowedNames, deadlineMs)));
  return { records: outcomes, failedIds: outcomes.filter((o) => o.failed).map((o) => o.messageId) };
}

function blank(messageId: string): RecordOutcome {
  return { messageId, failed: false, received: 0, applied: 0, requeued: 0, deadLettered: 0, retrying: 0 };
}

async function processRecord(deps: ProcessQueueDeps, record: SQSRecord, allowedNames: ReadonlySet<string> | undefined, deadlineMs: number): Promise<RecordOutcome> {
  const base = blank(record.messageId);
  const requestId = record.messageAttributes[ATTR.requestId]?.stringValue ?? record.messageId;
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    return deadLetterRaw(deps, record, requestId, 'body-must-be-json', 'the message body is not JSON');
  }
  let validation;
  try {
    validation = validateUsers(body, { allowedNames });
  } catch (error) {
    if (!(error instanceof RequestShapeError)) throw error;
    return deadLetterRaw(deps, record, requestId, error.rule, error.message);
  }
  const { users, rejected, received } = validation;
  const chunks = chunk(users);
  const result = await applyChunks(deps.im, chunks, { deadlineMs });

  const dead = [...deadLettersForRejected(record, body, rejected, requestId), ...refusedMessages(result, requestId)];
  const retryUsers = result.retryable.reduce((n, g) => n + g.users.length, 0);
  try {
    if (dead.length > 0) await deps.deadLetters.publish(dead);
    // A single-chunk record is retried by SQS as it is; a larger one puts its unfinished chunks back as
    // their own messages, so the chunks already applied are not sent to IM again.
    if (retryUsers > 0 && chunks.length > 1) {
      const remainder = result.retryable.flatMap((g) => chunk(g.users));
      await deps.overflow.publish(remainder.map((users) => ({ body: userAttrsBody(users), attributes: { [ATTR.requestId]: requestId, [ATTR.origin]: 'worker-remainder' } })));
      return { ...base, received, applied: result.applied.length, requeued: retryUsers, deadLettered: rejected.length + countUsers(result.refused) };
    }
  } catch {
    // A queue that cannot take the message: SQS delivers the record again, which re-applies idempotently.
    return { ...base, failed: true, received, applied: result.applied.length, retrying: received - result.applied.length };
  }
  return {
    ...base,
    failed: retryUsers > 0,
    received,
    applied: result.applied.length,
    deadLettered: rejected.length + countUsers(result.refused),
    retrying: retryUsers,
  };
}

const countUsers = (groups: readonly { users: readonly unknown[] }[]): number => groups.reduce((n, g) => n + g.users.length, 0);

async function deadLetterRaw(deps: ProcessQueueDeps, record: SQSRecord, requestId: string, rule: string, reason: string): Promise<RecordOutcome> {
  const base = blank(record.messageId);
  try {
    await deps.deadLetters.publish([{ body: record.body, attributes: { [ATTR.requestId]: requestId, [ATTR.rule]: rule, [ATTR.reason]: truncate(reason) } }]);
    return { ...base, deadLettered: 1 };
  } catch {
    return { ...base, failed: true };
  }
}

/**
 * Dead letters for the rejected entries. An entry nested too deep to serialise again (the stack runs out)
 * cannot be cut out of its message: the original body then goes to the dead-letter queue whole.
 */
function deadLettersForRejected(record: SQSRecord, body: unknown, rejected: readonly Rejection[], requestId: string): OutgoingMessage[] {
  try {
    return rejectionMessages(body, rejected, requestId);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    const rules = [...new Set(rejected.map((r) => r.rule))].join(',');
    const reason = `the rejected users could not be cut out of the message (nested too deep), so it is kept whole: ${rejected.map((r) => r.message).slice(0, 5).join(' | ')}`;
    return [{ body: record.body, attributes: { [ATTR.requestId]: requestId, [ATTR.rule]: truncate(rules), [ATTR.reason]: truncate(reason) } }];
  }
}

/** Rejected entries grouped by rule, each group one message in the original `{"UserAttrs":[...]}` shape. */
function rejectionMessages(body: unknown, rejected: readonly Rejection[], requestId: string): OutgoingMessage[] {
  if (rejected.length === 0) return [];
  const entries = (body as { UserAttrs: readonly unknown[] }).UserAttrs;
  const byRule = new Map<string, { entries: unknown[]; reasons: string[] }>();
  for (const r of rejected) {
    const group = byRule.get(r.rule) ?? { entries: [], reasons: [] };
    group.entries.push(entries[r.index]);
    if (group.reasons.length < 5) group.reasons.push(r.message);
    byRule.set(r.rule, group);
  }
  return [...byRule].map(([rule, group]) => ({
    body: sqsSafeJson({ UserAttrs: group.entries }),
    attributes: { [ATTR.requestId]: requestId, [ATTR.rule]: rule, [ATTR.reason]: truncate(group.reasons.join(' | ')) },
  }));
}

function refusedMessages(result: DispatchResult, requestId: string): OutgoingMessage[] {
  return result.refused.map((group) => ({
    body: userAttrsBody(group.users),
    attributes: {
      [ATTR.requestId]: requestId,
      [ATTR.errorCode]: String(group.errorCode),
      [ATTR.errorInfo]: truncate(group.errorInfo),
      [ATTR.rule]: `im-error-${group.errorCode}`,
    },
  }));
}

// Reasons are for people; keep attributes small so the users, not the prose, fill the 1 MiB.
const truncate = (s: string): string => sqsSafeText(s, 1000);
