import { RequestShapeError } from '../errors.ts';
import { isPlainRecord } from '../rules/check-user.ts';
import { parseUserTagsEnvelope, validateTagEntries } from '../rules/tag-entry.ts';
import type { Rejection, UserTagOps, UserUpdate } from '../rules/types.ts';
import { validateUsers } from '../rules/validate-users.ts';
import type { DeadLetter, QueueRecord } from '../ports.ts';

/** A queue record read with the request rules: its valid users, and dead letters for everything else. */
export interface ReadRecord {
  readonly record: QueueRecord;
  readonly users: readonly UserUpdate[];
  /** The record's valid tag operations, one entry per user (a tags body; empty for an attributes body). */
  readonly tags: readonly UserTagOps[];
  /** Dead letters for the record's refused entries, or for the whole record when it cannot be read. */
  readonly deadLetters: readonly DeadLetter[];
  /** How many entries the record held (1 for a body that is not a request). */
  readonly received: number;
  /** Entries dead-lettered by the rules. */
  readonly rejected: number;
}

/**
 * Whether a body is a tags request: `{"UserTags":[…]}`, or IM's remove-all shape `{"To_Account":[…]}`. Anything else
 * is read as an attributes request (and refused by its rules when it is not one).
 */
function isTagsBody(body: unknown): boolean {
  return (
    isPlainRecord(body) &&
    !Object.hasOwn(body, 'UserAttrs') &&
    (Object.hasOwn(body, 'UserTags') || Object.hasOwn(body, 'To_Account'))
  );
}

/** Reads a record's body with the gateway's own rules; a body that cannot be read goes to the dead-letter queue whole. */
export function readRecord(record: QueueRecord, allowedNames: ReadonlySet<string> | undefined): ReadRecord {
  const whole = (rule: string, reason: string): ReadRecord => ({
    record,
    users: [],
    tags: [],
    deadLetters: [{ raw: record.body, why: { rule, reason, requestId: record.requestId, records: [record.id] } }],
    received: 1,
    rejected: 1,
  });
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    return whole('body-must-be-json', 'the message body is not JSON');
  }
  try {
    const tagsRead = readTags(record, body);
    if (isTagsBody(body)) return { record, users: [], ...tagsRead };
    const { users, rejected, received } = validateUsers(body, { allowedNames });
    return {
      record,
      users,
      tags: tagsRead.tags,
      deadLetters: [
        ...rejectionLetters(record, (body as { UserAttrs: readonly unknown[] }).UserAttrs, rejected, false),
        ...tagsRead.deadLetters,
      ],
      received: received + tagsRead.received,
      rejected: rejected.length + tagsRead.rejected,
    };
  } catch (error) {
    if (!(error instanceof RequestShapeError)) throw error;
    return whole(error.rule, error.message);
  }
}

/**
 * The tag operations of a body: a tags body, or the `UserTags` a producer's message carries beside its `UserAttrs`
 * (`tim-attr push` writes both in one message); none otherwise.
 */
function readTags(record: QueueRecord, body: unknown): Omit<ReadRecord, 'record' | 'users'> {
  const carries = isTagsBody(body) || (isPlainRecord(body) && Object.hasOwn(body, 'UserTags'));
  if (!carries) return { tags: [], deadLetters: [], received: 0, rejected: 0 };
  const envelope = parseUserTagsEnvelope(body);
  const { users: tags, rejected } = validateTagEntries(envelope, envelope.entries.keys());
  return {
    tags,
    deadLetters: rejectionLetters(record, envelope.entries, rejected, true),
    received: envelope.entries.length,
    rejected: rejected.length,
  };
}

/** The rejected entries grouped by rule, each group one dead letter with the entries as sent. */
function rejectionLetters(
  record: QueueRecord,
  entries: readonly unknown[],
  rejected: readonly Rejection[],
  tags: boolean,
): DeadLetter[] {
  if (rejected.length === 0) return [];
  const byRule = new Map<string, { entries: unknown[]; reasons: string[] }>();
  for (const r of rejected) {
    let group = byRule.get(r.rule);
    if (group === undefined) byRule.set(r.rule, (group = { entries: [], reasons: [] }));
    group.entries.push(entries[r.index]);
    if (group.reasons.length < 5) group.reasons.push(r.message);
  }
  const letters: DeadLetter[] = [...byRule].map(([rule, group]) => ({
    entries: group.entries,
    ...(tags ? { tags: true as const } : {}),
    why: { rule, reason: group.reasons.join(' | '), requestId: record.requestId, records: [record.id] },
  }));
  try {
    JSON.stringify(letters.map((l) => ('entries' in l ? l.entries : [])));
    return letters;
  } catch (error) {
    // An entry nested too deep to serialise again (the stack runs out) cannot be cut out: keep the body whole.
    if (!(error instanceof RangeError)) throw error;
    const rules = [...byRule.keys()].join(',');
    const reason = `the rejected users could not be cut out of the message (nested too deep), so it is kept whole: ${rejected
      .map((r) => r.message)
      .slice(0, 5)
      .join(' | ')}`;
    return [{ raw: record.body, why: { rule: rules, reason, requestId: record.requestId, records: [record.id] } }];
  }
}
