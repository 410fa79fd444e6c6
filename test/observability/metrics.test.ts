import { describe, expect, it } from 'vitest';
import { laneOf } from '../../lib/core/lanes/lane-of.ts';
import type { UserAttr } from '../../lib/core/rules/types.ts';
import { captureStdout, dimensionSetsOf, samples, total } from '../helpers/emf-capture.ts';
import { apiEvent, lambdaContext, makeUsers, parseBody } from '../helpers/factories.ts';
import { useStack } from '../helpers/use-stack.ts';

/** `count` users of `prefix` whose accounts fall into `lane` of `laneCount`. */
function usersInLane(count: number, prefix: string, lane: number, laneCount: number): UserAttr[] {
  const users: UserAttr[] = [];
  for (let i = 0; users.length < count; i++) {
    const [user] = makeUsers(1, prefix, i);
    if (user !== undefined && laneOf(user.To_Account, laneCount) === lane) users.push(user);
  }
  return users;
}

const NAMES = 'sex,city,tier,lang';

describe('metrics and structured logs', () => {
  const stack = useStack();

  it('emits the user counts, IM calls by ErrorCode and latency for a known webhook', async () => {
    // Prepare: 250 users in 2 lanes, 2 of them bad. The 248 good ones fit an early write of 3 calls, so the API
    // writes them itself; every accepted user is also written into its lane.
    const { api } = stack.copy({ LANE_COUNT: '2', API_INLINE_CHUNKS: '3', ATTR_NAMES: NAMES });
    const users = [
      ...usersInLane(60, 'metrics-a', 0, 2),
      ...usersInLane(188, 'metrics-b', 1, 2),
      { To_Account: 'bad-1', Attrs: { planet: 'x' } },
      { To_Account: 'bad-2', Attrs: { city: 7 } },
    ];
    const event = apiEvent(JSON.stringify({ UserAttrs: users }));
    // Act
    let answer: Awaited<ReturnType<typeof api>> | undefined;
    const { emf, logs } = await captureStdout(async () => {
      answer = await api(event, lambdaContext());
    });
    // Assess
    // Every accepted user applied: 200, with the rejections listed.
    expect(answer?.statusCode).toBe(200);
    expect(parseBody(answer ?? {})).toMatchObject({
      Received: 250,
      Accepted: 248,
      Applied: 248,
      Queued: 0,
      Rejected: 2,
    });
    expect(emf.every((d) => d._aws.CloudWatchMetrics.every((m) => m.Namespace === 'TimAttrGateway'))).toBe(true);
    expect(total(emf, 'UsersReceived')).toBe(250);
    expect(total(emf, 'UsersApplied')).toBe(248);
    expect(total(emf, 'UsersQueued')).toBe(248);
    expect(total(emf, 'UsersRejected')).toBe(2);
    expect(total(emf, 'ImCalls', ['ErrorCode', '0'])).toBe(3);
    expect(total(emf, 'ImCalls')).toBe(3);
    // Each value by its code, and under `service` alone: the total the rate-limited share divides by.
    expect(dimensionSetsOf(emf, 'ImCalls')).toEqual([[['service', 'ErrorCode'], ['service']]]);
    expect(samples(emf, 'ImLatency')).toBe(3);
    const laned = (await stack.takeAll(stack.lanesUrl)).flatMap(
      (m) => (JSON.parse(m.Body ?? '{}') as { UserAttrs: unknown[] }).UserAttrs,
    );
    expect(laned).toHaveLength(248);
    const requestLines = logs.filter((l) => l.requestId !== undefined);
    expect(requestLines.length).toBeGreaterThan(0);
    expect(
      requestLines.every((l) => l.requestId === event.requestContext.requestId && l.function_request_id !== undefined),
    ).toBe(true);
  });

  it('counts intake users moved into lanes and the bad ones dead-lettered in the worker', async () => {
    // Prepare
    const { worker } = stack.copy({ LANE_COUNT: '2', ATTR_NAMES: NAMES }, 'worker');
    await stack.sendIntake(
      JSON.stringify({ UserAttrs: [...makeUsers(50, 'wi'), { To_Account: 'dead-1', Attrs: { planet: 'x' } }] }),
      { groupId: 'crm' },
    );
    const event = await stack.receiveEvent(stack.intakeUrl);
    // Act
    const { emf } = await captureStdout(() => worker(event, lambdaContext(30_000)));
    // Assess
    expect(total(emf, 'UsersReceived')).toBe(51);
    expect(total(emf, 'UsersQueued')).toBe(50);
    expect(total(emf, 'UsersDeadLettered')).toBe(1);
    expect(total(emf, 'DeadLetters', ['Rule', 'attr-name-unregistered'])).toBe(1);
    expect(total(emf, 'DeadLetters')).toBe(1);
    expect(total(emf, 'UsersApplied')).toBe(0);
    expect(total(emf, 'ImCalls')).toBe(0);
    expect((await stack.takeAll(stack.dlqUrl)).map((m) => m.MessageAttributes?.rule?.StringValue)).toEqual([
      'attr-name-unregistered',
    ]);
  });

  it('counts applied and dead-lettered users, retries and rate-limit answers of a lane batch', async () => {
    // Prepare: one lane record of 51 users; `lang` was registered when the API accepted them and is no longer
    // when the worker reads them, so the one user setting it is dead-lettered by rule.
    const { api } = stack.copy({ LANE_COUNT: '1', API_INLINE_CHUNKS: '0', ATTR_NAMES: NAMES });
    const { worker } = stack.copy({ LANE_COUNT: '1', ATTR_NAMES: 'sex,city,tier' }, 'worker');
    await api(
      apiEvent(
        JSON.stringify({ UserAttrs: [...makeUsers(50, 'wm'), { To_Account: 'dead-2', Attrs: { lang: 'fr' } }] }),
      ),
      lambdaContext(),
    );
    const event = await stack.receiveEvent(stack.lanesUrl);
    // Every attempt is answered 60007 until the emulator recovers after 150 ms.
    stack.emulator.setFaults({ pRateLimit: 1 });
    setTimeout(() => stack.emulator.setFaults({}), 150);
    // Act
    let failures: number | undefined;
    const { emf } = await captureStdout(async () => {
      failures = (await worker(event, lambdaContext(60_000))).batchItemFailures.length;
    });
    // Assess
    expect(event.Records).toHaveLength(1);
    expect(failures).toBe(0);
    expect(total(emf, 'UsersReceived')).toBe(51);
    expect(total(emf, 'UsersApplied')).toBe(50);
    expect(total(emf, 'UsersDeadLettered')).toBe(1);
    expect(total(emf, 'DeadLetters', ['Rule', 'attr-name-unregistered'])).toBe(1);
    expect(total(emf, 'DeadLetters')).toBe(1);
    expect(total(emf, 'ImRateLimited')).toBeGreaterThanOrEqual(1);
    expect(total(emf, 'ImRetries')).toBe(total(emf, 'ImRateLimited'));
    expect(total(emf, 'ImCalls', ['ErrorCode', '60007'])).toBe(total(emf, 'ImRateLimited'));
    expect(total(emf, 'ImCalls', ['ErrorCode', '0'])).toBe(1);
    expect(total(emf, 'ImCalls')).toBe(total(emf, 'ImRateLimited') + 1);
    expect(samples(emf, 'ImLatency')).toBe(total(emf, 'ImCalls'));
    const dead = await stack.takeAll(stack.dlqUrl);
    expect(dead.map((m) => [m.MessageAttributes?.rule?.StringValue, m.Body])).toEqual([
      ['attr-name-unregistered', JSON.stringify({ UserAttrs: [{ To_Account: 'dead-2', Attrs: { lang: 'fr' } }] })],
    ]);
  });
});
