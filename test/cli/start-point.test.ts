import { describe, expect, it } from 'vitest';
import type { Checkpoint } from '../../cli/push/checkpoint.ts';
import { chooseStart, messageGroupOf, startCheckpoint, type StartRequest } from '../../cli/push/start-point.ts';

const identity = { size: 100, mtimeMs: 1, headSha256: 'ab' };
const request = (over: Partial<StartRequest> = {}): StartRequest => ({
  file: '/data/users.csv',
  fileArg: 'users.csv',
  format: 'csv',
  identity,
  existing: undefined,
  checkpointPath: '/data/users.csv.checkpoint.json',
  resume: false,
  restart: false,
  maxBodyBytes: 250_000,
  ...over,
});
const checkpoint: Checkpoint = {
  version: 1,
  file: '/data/users.csv',
  format: 'csv',
  identity,
  destination: 'intake https://sqs/q.fifo',
  runId: 'r1',
  messageGroupId: 'push-0123456789abcdef',
  maxBodyBytes: 250_000,
  sentThrough: 40,
  usersSent: 39,
  messagesSent: 1,
  rejected: { bytes: 120, count: 1 },
  updatedAt: '2026-01-01T00:00:00.000Z',
};

describe('where a push starts', () => {
  it("starts afresh with a new run id and the file's group", () => {
    // Act
    const a = chooseStart(request());
    const b = chooseStart(request());

    // Assess
    expect(a.resuming).toBeUndefined();
    expect(a.runId).not.toBe(b.runId);
    expect(a.messageGroupId).toBe(messageGroupOf('/data/users.csv'));
    expect(startCheckpoint(request(), a, 'intake https://sqs/q.fifo')).toMatchObject({
      sentThrough: 0,
      runId: a.runId,
      rejected: { bytes: 0, count: 0 },
    });
  });

  it("resumes with the checkpoint's run id and group, to the same destination only", () => {
    // Act
    const point = chooseStart(request({ existing: checkpoint, resume: true }));

    // Assess
    expect(point).toMatchObject({ runId: 'r1', messageGroupId: 'push-0123456789abcdef' });
    expect(startCheckpoint(request(), point, 'intake https://sqs/q.fifo')).toBe(checkpoint);
    expect(() => startCheckpoint(request(), point, 'webhook https://gw/v1/user-attrs')).toThrow(
      '[checkpoint-destination]',
    );
  });

  it.each([
    [{ resume: true, restart: true }, '--resume and --restart exclude each other'],
    [{ resume: true }, 'nothing to resume'],
    [{ existing: checkpoint }, 'Pass --resume to send the rest, or --restart'],
    [
      { existing: checkpoint, resume: true, identity: { ...identity, headSha256: 'cd' } },
      'changed since the checkpoint (its first bytes)',
    ],
  ])('refuses %j', (over, says) => {
    expect(() => chooseStart(request(over))).toThrow(says);
  });

  it('--restart starts afresh over an old checkpoint', () => {
    expect(chooseStart(request({ existing: checkpoint, restart: true })).runId).not.toBe('r1');
  });
});
