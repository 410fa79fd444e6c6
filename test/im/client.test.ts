import { afterEach, describe, expect, it } from 'vitest';
import { ImClient } from '../../lib/im/client.ts';
import type { ImClientOptions } from '../../lib/im/client.ts';
import { DeadlineError, ImError } from '../../lib/im/errors.ts';
import type { AttemptEvent } from '../../lib/im/types.ts';
import { RateLimiter } from '../../lib/pacing/rate-limiter.ts';
import { verifyUserSig } from '../../lib/usersig/user-sig.ts';
import { appKey, countingCredentials, countingSigProvider, rotatedKey } from './helpers/fakes.ts';
import { fail, ok, startRecordingServer } from './helpers/recording-server.ts';
import type { RecordedRequest, RecordingServer, ScriptedAnswer } from './helpers/recording-server.ts';
import { ownPacers } from '../../lib/pacing/pacer-for.ts';

const users = (n: number) => Array.from({ length: n }, (_, i) => ({ To_Account: `u${i}`, Attrs: { sex: 'f' } }));

let server: RecordingServer | undefined;
let client: ImClient | undefined;

interface Harness {
  server: RecordingServer;
  client: ImClient;
  credentials: ReturnType<typeof countingCredentials>;
  sig: ReturnType<typeof countingSigProvider>;
  limiter: RateLimiter;
  events: AttemptEvent[];
  slept: number[];
}

/** A client against a scripted server, with a fast limiter and a sleep that only records. */
async function harness(
  script: (request: RecordedRequest, index: number) => ScriptedAnswer,
  overrides: Partial<ImClientOptions> = {},
): Promise<Harness> {
  server = await startRecordingServer(script);
  const credentials = countingCredentials(appKey);
  const sig = countingSigProvider();
  const limiter = new RateLimiter({ ratePerSecond: 10_000 });
  const events: AttemptEvent[] = [];
  const slept: number[] = [];
  client = new ImClient({
    baseUrl: server.url,
    credentials,
    sigProvider: sig,
    pacerFor: () => limiter,
    retry: { random: () => 0.5, sleep: async (ms) => void slept.push(ms) },
    onAttempt: (event) => events.push(event),
    ...overrides,
  });
  return { server, client, credentials, sig, limiter, events, slept };
}

/** A script answering `answers` in order, then success forever. */
const sequence =
  (...answers: ScriptedAnswer[]) =>
  (_request: RecordedRequest, index: number): ScriptedAnswer =>
    answers[index] ?? ok();

async function rejection(promise: Promise<unknown>): Promise<ImError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ImError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

afterEach(async () => {
  client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

describe('ImClient: commands', () => {
  it('sends setAttr users and reads per-user failures from ErrorList', async () => {
    // Prepare
    const { client, server } = await harness(() => ok({ ErrorList: [{ To_Account: 'u3', ErrorCode: 70107 }] }));

    // Act
    const outcome = await client.setAttr(users(5));

    // Assess
    expect(server.requests[0]?.pathname).toBe('/v4/all_member_push/im_set_attr');
    expect(server.requests[0]?.body).toEqual({ UserAttrs: users(5) });
    expect(outcome.failedUsers).toEqual([{ To_Account: 'u3', errorCode: 70107, errorClass: 'permanent' }]);
  });

  it('reports no failed users when the answer has no ErrorList', async () => {
    // Prepare
    const { client } = await harness(() => ok());

    // Act
    const outcome = await client.setAttr(users(100));

    // Assess
    expect(outcome.failedUsers).toEqual([]);
  });

  it('refuses more than 100 users without calling IM', async () => {
    // Prepare
    const { client, server } = await harness(() => ok());

    // Act
    const act = client.setAttr(users(101));

    // Assess
    await expect(act).rejects.toThrow(RangeError);
    expect(server.requests).toHaveLength(0);
  });

  it('reads attribute names in slot order', async () => {
    // Prepare
    const { client, server } = await harness(() =>
      ok({ AttrNames: { '1': 'city', '0': 'sex', '10': 'late', '2': 'tier' } }),
    );

    // Act
    const names = await client.getAttrNames();

    // Assess
    expect(server.requests[0]?.pathname).toBe('/v4/all_member_push/im_get_attr_name');
    expect(server.requests[0]?.body).toEqual({});
    expect(names).toEqual(['sex', 'city', 'tier', 'late']);
  });

  it('sends setAttrNames, getAttr and removeAttr bodies in IM shape', async () => {
    // Prepare
    const { client, server } = await harness((request) =>
      request.pathname.endsWith('im_get_attr')
        ? ok({
            UserAttrs: [
              { To_Account: 'u1', Attrs: { sex: 'f' } },
              { To_Account: 'u2', Attrs: {} },
            ],
          })
        : ok(),
    );

    // Act
    await client.setAttrNames({ '0': 'sex', '1': 'city' });
    const attrs = await client.getAttr(['u1', 'u2']);
    const removed = await client.removeAttr([{ To_Account: 'u1', Attrs: ['sex'] }]);

    // Assess
    expect(server.requests.map((r) => [r.pathname, r.body])).toEqual([
      ['/v4/all_member_push/im_set_attr_name', { AttrNames: { '0': 'sex', '1': 'city' } }],
      ['/v4/all_member_push/im_get_attr', { To_Account: ['u1', 'u2'] }],
      ['/v4/all_member_push/im_remove_attr', { UserAttrs: [{ To_Account: 'u1', Attrs: ['sex'] }] }],
    ]);
    expect(attrs).toEqual([
      { To_Account: 'u1', Attrs: { sex: 'f' } },
      { To_Account: 'u2', Attrs: {} },
    ]);
    expect(removed.failedUsers).toEqual([]);
  });

  it('treats HTTP 200 with ErrorCode != 0 as a failure', async () => {
    // Prepare
    const { client } = await harness(() => fail(90033, { ErrorList: [{ To_Account: 'u1', ErrorCode: 90033 }] }));

    // Act
    const error = await rejection(client.setAttr(users(2)));

    // Assess
    expect(error.errorCode).toBe(90033);
    expect(error.errorClass).toBe('permanent');
    expect(error.errorList).toEqual([{ To_Account: 'u1', ErrorCode: 90033 }]);
  });
});

describe('ImClient: retries by class', () => {
  it('retries transient answers (91000, HTTP 502, reset) with backoff and succeeds', async () => {
    // Prepare
    const { client, server, events, slept } = await harness(sequence(fail(91000), { status: 502 }, { reset: true }));

    // Act
    const outcome = await client.setAttr(users(3));

    // Assess
    expect(outcome.failedUsers).toEqual([]);
    expect(server.requests).toHaveLength(4);
    expect(events.map((e) => [e.attempt, e.errorCode, e.errorClass])).toEqual([
      [1, 91000, 'transient'],
      [2, -502, 'transient'],
      [3, -2, 'transient'],
      [4, 0, 'ok'],
    ]);
    // full jitter with random 0.5: half of 100, 200, 400
    expect(slept).toEqual([50, 100, 200]);
  });

  it('gives up after maxAttempts transient failures with the class and the attempt count', async () => {
    // Prepare
    const { client, server, slept } = await harness(() => fail(70169));

    // Act
    const error = await rejection(client.setAttr(users(1)));

    // Assess
    expect(server.requests).toHaveLength(6);
    expect(slept).toHaveLength(5);
    expect(error).toMatchObject({
      name: 'ImError',
      errorCode: 70169,
      errorClass: 'transient',
      attempts: 6,
      command: 'all_member_push/im_set_attr',
    });
  });

  it('penalizes the limiter on a rate-limit answer and retries', async () => {
    // Prepare
    const { client, server, limiter } = await harness(sequence(fail(60007)));

    // Act
    await client.setAttr(users(1));

    // Assess
    expect(server.requests).toHaveLength(2);
    expect(limiter.effectiveRate).toBe(limiter.configuredRate * 0.8);
  });

  it('throws a configuration error at once (no retry inside the call: only an operator can fix it)', async () => {
    // Prepare
    const { client, server, slept } = await harness(() => fail(70016));

    // Act
    const error = await rejection(client.getAttrNames());

    // Assess
    expect(server.requests).toHaveLength(1);
    expect(slept).toEqual([]);
    expect(error).toMatchObject({ errorCode: 70016, errorClass: 'configuration', attempts: 1 });
  });

  it('throws a permanent error at once', async () => {
    // Prepare
    const { client, server, slept } = await harness(() => fail(90001));

    // Act
    const error = await rejection(client.getAttrNames());

    // Assess
    expect(server.requests).toHaveLength(1);
    expect(slept).toEqual([]);
    expect(error).toMatchObject({ errorCode: 90001, errorClass: 'permanent', attempts: 1 });
  });

  it('throws unknown codes as permanent without retrying', async () => {
    // Prepare
    const { client, server } = await harness(() => fail(12345));

    // Act
    const error = await rejection(client.getAttrNames());

    // Assess
    expect(server.requests).toHaveLength(1);
    expect(error.errorClass).toBe('permanent');
  });

  it('re-signs once on signature-stale and retries', async () => {
    // Prepare
    const { client, server, sig } = await harness(sequence(fail(70001)));

    // Act
    await client.setAttr(users(1));

    // Assess
    expect(server.requests).toHaveLength(2);
    expect(sig.calls.invalidate).toBe(1);
  });

  it('re-signs only once when the signature stays stale', async () => {
    // Prepare
    const { client, server, sig } = await harness(() => fail(70052));

    // Act
    const error = await rejection(client.setAttr(users(1)));

    // Assess
    expect(server.requests).toHaveLength(2);
    expect(sig.calls.invalidate).toBe(1);
    expect(error).toMatchObject({ errorCode: 70052, errorClass: 'signature-stale', attempts: 2 });
  });

  it('re-reads credentials once on signature-wrong and fails fast when they did not change', async () => {
    // Prepare
    const { client, server, credentials, sig } = await harness(() => fail(70009));

    // Act
    const error = await rejection(client.setAttr(users(1)));

    // Assess
    expect(server.requests).toHaveLength(1);
    expect(credentials.calls.refresh).toBe(1);
    expect(sig.calls.invalidate).toBe(0);
    expect(error).toMatchObject({ errorCode: 70009, errorClass: 'signature-wrong', attempts: 1 });
  });

  it('recovers from a key rotation: refreshed credentials differ, so it re-signs and retries once', async () => {
    // Prepare: the server only accepts UserSigs signed with the rotated key
    const accepts = (request: RecordedRequest): boolean =>
      verifyUserSig(request.query.get('usersig') ?? '', rotatedKey).ok;
    const { client, server, sig } = await harness((request) => (accepts(request) ? ok() : fail(70009)), {
      credentials: countingCredentials(appKey, [rotatedKey]),
    });

    // Act
    const outcome = await client.setAttr(users(1));

    // Assess
    expect(outcome.failedUsers).toEqual([]);
    expect(server.requests).toHaveLength(2);
    expect(sig.calls.invalidate).toBe(1);
    expect(server.requests.map(accepts)).toEqual([false, true]);
  });

  it('fails after one retry when the rotated key is wrong as well', async () => {
    // Prepare
    const credentials = countingCredentials(appKey, [rotatedKey, { ...rotatedKey, secretKey: 'third' }]);
    const { client, server } = await harness(() => fail(70009), { credentials });

    // Act
    const error = await rejection(client.setAttr(users(1)));

    // Assess
    expect(server.requests).toHaveLength(2);
    expect(credentials.calls.refresh).toBe(1);
    expect(error.attempts).toBe(2);
  });

  it('shares one credential re-read among concurrent signature-wrong failures', async () => {
    // Prepare
    const credentials = countingCredentials(appKey);
    const { client, server } = await harness(() => fail(70009), { credentials });

    // Act
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => client.setAttr(users(1))));

    // Assess
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(server.requests).toHaveLength(10);
    expect(credentials.calls.refresh).toBe(1);
  });

  it('never puts the UserSig or the query string in an error', async () => {
    // Prepare
    const { client, server } = await harness(() => ({ reset: true }), { retry: { maxAttempts: 1 } });

    // Act
    const error = await rejection(client.setAttr(users(1)));

    // Assess
    const usersig = server.requests[0]?.query.get('usersig') ?? '';
    expect(usersig.length).toBeGreaterThan(20);
    for (const text of [error.message, error.errorInfo, String(error.cause), error.stack ?? '']) {
      expect(text).not.toContain(usersig);
      expect(text).not.toContain('usersig=');
    }
  });
});

describe('ImClient: deadlines', () => {
  it('throws DeadlineError without calling when an attempt could not finish before the deadline', async () => {
    // Prepare
    const t0 = 1_700_000_000_000;
    const { client, server } = await harness(() => ok(), { now: () => t0 });

    // Act
    const error = await rejection(client.setAttr(users(1), { deadlineMs: t0 + 4999 }));

    // Assess
    expect(error).toBeInstanceOf(DeadlineError);
    expect(error).toMatchObject({ name: 'DeadlineError', errorClass: 'transient', attempts: 0 });
    expect(server.requests).toHaveLength(0);
  });

  it('gives a call up at startByMs when no start came, however far the deadline (the early write waits apiInlineWaitMs, not the deadline)', async () => {
    // Prepare: a copy whose pace (1 call/s) is spent, so its next start is a second away
    const { client, server } = await harness(() => ok(), { pacerFor: ownPacers(1) });
    await client.setAttr(users(1));
    const began = Date.now();

    // Act
    const error = await rejection(client.setAttr(users(1), { deadlineMs: began + 25_000, startByMs: began + 50 }));
    const waited = Date.now() - began;

    // Assess
    expect(error).toBeInstanceOf(DeadlineError);
    expect(waited).toBeLessThan(900);
    expect(server.requests).toHaveLength(1);
  });

  it('shortens a backoff sleep to the last moment an attempt can still start', async () => {
    // Prepare
    let t = 1_700_000_000_000;
    const deadlineMs = t + 5000 + 150;
    const slept: number[] = [];
    const { client, server } = await harness(sequence(fail(91000)), {
      now: () => t,
      retry: { baseDelayMs: 1000, random: () => 0.99, sleep: async (ms) => void (slept.push(ms), (t += ms)) },
    });

    // Act
    await client.setAttr(users(1), { deadlineMs });

    // Assess
    expect(slept).toEqual([150]);
    expect(server.requests).toHaveLength(2);
  });

  it('stops retrying with DeadlineError (cause: the last failure) when no retry can start in time', async () => {
    // Prepare
    let t = 1_700_000_000_000;
    const deadlineMs = t + 7000;
    const { client, server } = await harness(
      () => {
        t += 3000; // the attempt took 3 s
        return fail(60008);
      },
      { now: () => t },
    );

    // Act
    const error = await rejection(client.setAttr(users(1), { deadlineMs }));

    // Assess
    expect(error).toBeInstanceOf(DeadlineError);
    expect(error.attempts).toBe(1);
    expect(error.cause).toBeInstanceOf(ImError);
    expect((error.cause as ImError).errorCode).toBe(60008);
    expect(server.requests).toHaveLength(1);
  });
});
