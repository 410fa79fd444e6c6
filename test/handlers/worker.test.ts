import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { apiEvent, lambdaContext, makeUsers } from '../helpers/factories.ts';
import { useStack } from '../helpers/use-stack.ts';
import { PLANTED_PERSONAL } from '../setup/planted-personal-data.ts';

const attr = (m: { MessageAttributes?: Record<string, { StringValue?: string }> }, name: string) =>
  m.MessageAttributes?.[name]?.StringValue;
const bodyUsers = (m: { Body?: string }) =>
  (JSON.parse(m.Body ?? '{}') as { UserAttrs: { To_Account: string }[] }).UserAttrs;

describe('worker handler (FIFO lanes and intake on fauxqs → IM emulator; dead letters to fauxqs)', () => {
  const stack = useStack();

  /** Writes users into their lanes through the API, with no early write. */
  const intoLanes = async (users: readonly unknown[], env: Readonly<Record<string, string>> = {}): Promise<void> => {
    const { api } = stack.copy({ API_INLINE_CHUNKS: '0', ...env });
    const result = await api(apiEvent(JSON.stringify({ UserAttrs: users })), lambdaContext());
    expect(result.statusCode).toBe(202);
  };

  it('applies lane records, set and remove, and reports no failure', async () => {
    // Prepare
    const { worker } = stack.copy({}, 'worker');
    await intoLanes([...makeUsers(40, 'lane'), { To_Account: 'lane-0', Attrs: { tier: null } }]);
    // Act
    let failures = 0;
    for (
      let event = await stack.receiveEvent(stack.lanesUrl);
      event.Records.length > 0;
      event = await stack.receiveEvent(stack.lanesUrl)
    ) {
      failures += (await worker(event, lambdaContext(30_000))).batchItemFailures.length;
    }
    // Assess
    expect(failures).toBe(0);
    expect(stack.emulator.attrs.get('lane-39')).toEqual(makeUsers(40, 'lane')[39]?.Attrs);
    expect(stack.emulator.attrs.get('lane-0')).toEqual({ city: 'city-0' });
  });

  it('moves an intake message into lanes and dead-letters its bad users by rule, replayable as sent', async () => {
    // Prepare
    const { worker } = stack.copy({}, 'worker');
    const good = makeUsers(250, 'producer');
    // Personal values ride along: the dead letters carry them (replayable), the logs never do (suite-wide scan).
    const bad = [
      { To_Account: 'bad-name', Attrs: { planet: PLANTED_PERSONAL.attrValue } },
      { To_Account: 'bad-value', Attrs: { city: 7 } },
      { To_Account: 'bad-long', Attrs: { city: PLANTED_PERSONAL.longValue } },
    ];
    await stack.sendIntake(JSON.stringify({ UserAttrs: [...good, ...bad] }), {
      groupId: 'crm',
      attributes: { requestId: 'req-crm-1' },
    });
    // Act
    const result = await worker(await stack.receiveEvent(stack.intakeUrl), lambdaContext(30_000));
    // Assess
    expect(result.batchItemFailures).toEqual([]);
    const laned = (await stack.takeAll(stack.lanesUrl)).flatMap(bodyUsers).map((u) => u.To_Account);
    expect(laned.sort()).toEqual(good.map((u) => u.To_Account).sort());
    const dead = await stack.takeAll(stack.dlqUrl);
    expect(dead.map((m) => attr(m, 'rule')).sort()).toEqual([
      'attr-name-unregistered',
      'value-max-50-bytes',
      'value-must-be-string',
    ]);
    for (const m of dead) expect(attr(m, 'reason')).not.toContain(PLANTED_PERSONAL.attrValue);
    expect(dead.flatMap(bodyUsers)).toEqual(expect.arrayContaining(bad));
    expect(dead.every((m) => attr(m, 'requestId') === 'req-crm-1')).toBe(true);
  });

  it.each([
    ['not JSON', 'this is not json', 'body-must-be-json'],
    ['not the schema', '{"Users":[]}', 'user-attrs-must-be-array'],
  ])('dead-letters an intake body that is %s at once, whole, with its rule', async (_name, body, rule) => {
    // Prepare
    const { worker } = stack.copy({}, 'worker');
    await stack.sendIntake(body, { groupId: 'crm' });
    // Act
    const result = await worker(await stack.receiveEvent(stack.intakeUrl), lambdaContext(30_000));
    // Assess
    const dead = await stack.takeAll(stack.dlqUrl);
    expect(result.batchItemFailures).toEqual([]);
    expect(dead.map((m) => [m.Body, attr(m, 'rule')])).toEqual([[body, rule]]);
  });

  it('fails a lane record while IM keeps failing, and sets its own backoff before it comes back', async () => {
    // Prepare: one lane, so the record is the only message of its queue.
    const { worker } = stack.copy({ IM_RETRY_MAX_ATTEMPTS: '1', LANE_COUNT: '1' }, 'worker');
    await intoLanes(makeUsers(20, 'flaky'), { LANE_COUNT: '1' });
    stack.emulator.setFaults({ pHttp502: 1 });
    const event = await stack.receiveEvent(stack.lanesUrl);
    // Act
    const result = await worker(event, lambdaContext(30_000));
    const rightAway =
      (await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.lanesUrl, WaitTimeSeconds: 0 }))).Messages ??
      [];
    await new Promise((r) => setTimeout(r, 1_500));
    const later = await stack.receiveEvent(stack.lanesUrl);
    // Assess
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      event.Records.map((r) => r.messageId).sort(),
    );
    expect(rightAway).toEqual([]);
    expect(later.Records.map((r) => r.attributes.ApproximateReceiveCount)).toContain('2');
    expect(await stack.takeAll(stack.dlqUrl)).toEqual([]);
  });

  it('starts no IM call it cannot finish before the deadline and fails those records for an immediate retry', async () => {
    // Prepare
    const { worker } = stack.copy({}, 'worker');
    await intoLanes(makeUsers(20, 'late'));
    const setCalls = (): number => stack.emulator.counters.callsByCommand.get('im_set_attr') ?? 0;
    const callsBefore = setCalls();
    const event = await stack.receiveEvent(stack.lanesUrl);
    // Act: 3 s left, less the 1 s margin, is shorter than one IM call's 5 s timeout.
    const result = await worker(event, lambdaContext(3_000));
    const again = await stack.receiveEvent(stack.lanesUrl);
    // Assess
    expect(result.batchItemFailures).toHaveLength(event.Records.length);
    expect(setCalls()).toBe(callsBefore);
    expect(again.Records.length).toBeGreaterThan(0);
  });
});
