import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { lambdaContext, makeUsers } from '../helpers/factories.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

const attr = (m: { MessageAttributes?: Record<string, { StringValue?: string }> }, name: string) => m.MessageAttributes?.[name]?.StringValue;
const bodyUsers = (m: { Body?: string }) => (JSON.parse(m.Body ?? '{}') as { UserAttrs: { To_Account: string }[] }).UserAttrs;

describe('worker handler (SQS event from fauxqs → IM emulator; dead letters to fauxqs)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterEach(() => stack.reset());
  afterAll(async () => {
    await stack.close();
  });

  it('applies an overflow chunk and reports no failure', async () => {
    // Prepare
    const { worker } = stack.copy({}, 'worker');
    await stack.send(JSON.stringify({ UserAttrs: makeUsers(100, 'chunk') }), { requestId: 'req-1', origin: 'api-overflow' });
    const event = await stack.receiveEvent();
    // Act
    const result = await worker(event, lambdaContext(60_000));
    // Assess
    expect(event.Records).toHaveLength(1);
    expect(result.batchItemFailures).toEqual([]);
    expect(stack.emulator.attrs.get('chunk-99')).toEqual(makeUsers(100, 'chunk')[99]?.Attrs);
  });

  it('dead-letters a body that is not JSON at once, with its rule, and does not retry it', async () => {
    // Prepare
    const { worker } = stack.copy({}, 'worker');
    await stack.send('this is not json');
    // Act
    const result = await worker(await stack.receiveEvent(), lambdaContext(60_000));
    // Assess
    const dead = await stack.takeAll(stack.dlqUrl);
    expect(result.batchItemFailures).toEqual([]);
    expect(dead).toHaveLength(1);
    expect(dead[0]?.Body).toBe('this is not json');
    expect(attr(dead[0] ?? {}, 'rule')).toBe('body-must-be-json');
  });

  it('dead-letters a body that is not the schema', async () => {
    // Prepare
    const { worker } = stack.copy({}, 'worker');
    await stack.send('{"Users":[]}');
    // Act
    const result = await worker(await stack.receiveEvent(), lambdaContext(60_000));
    // Assess
    const dead = await stack.takeAll(stack.dlqUrl);
    expect(result.batchItemFailures).toEqual([]);
    expect(attr(dead[0] ?? {}, 'rule')).toBe('user-attrs-must-be-array');
  });

  it('applies the good users of a producer message and dead-letters the bad ones by rule, replayable as sent', async () => {
    // Prepare
    const { worker } = stack.copy({}, 'worker');
    const good = makeUsers(250, 'producer');
    const bad = [
      { To_Account: 'bad-name', Attrs: { planet: 'Mars' } },
      { To_Account: 'bad-value', Attrs: { city: 'x'.repeat(51) } },
      { To_Account: 'bad-type', Attrs: { city: 42 } },
      { To_Account: 'bad-name-2', Attrs: { moon: 'Io' } },
    ];
    await stack.send(JSON.stringify({ UserAttrs: [...good.slice(0, 100), ...bad, ...good.slice(100)] }));
    // Act
    const result = await worker(await stack.receiveEvent(), lambdaContext(60_000));
    // Assess
    const dead = await stack.takeAll(stack.dlqUrl);
    expect(result.batchItemFailures).toEqual([]);
    expect(good.every((u) => stack.emulator.attrs.has(u.To_Account))).toBe(true);
    const byRule = new Map(dead.map((m) => [attr(m, 'rule'), bodyUsers(m).map((u) => u.To_Account)]));
    expect(byRule).toEqual(
      new Map([
        ['attr-name-unregistered', ['bad-name', 'bad-name-2']],
        ['value-max-50-bytes', ['bad-value']],
        ['value-must-be-string', ['bad-type']],
      ]),
    );
    expect(attr(dead[0] ?? {}, 'reason')).toMatch(/UserAttrs\[\d+\]\.Attrs/);
  });

  it('reports a record failed when IM keeps failing transiently, so SQS delivers it again', async () => {
    // Prepare
    const { worker } = stack.copy({ IM_RETRY_MAX_ATTEMPTS: '2' }, 'worker');
    stack.emulator.setFaults({ pHttp502: 1 });
    await stack.send(JSON.stringify({ UserAttrs: makeUsers(10, 'transient') }));
    const event = await stack.receiveEvent();
    // Act
    const result = await worker(event, lambdaContext(60_000));
    // Assess
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]?.messageId }]);
    expect(stack.emulator.attrs.has('transient-0')).toBe(false);
    expect(await stack.takeAll(stack.dlqUrl)).toHaveLength(0);
  });

  it('starts no IM call it cannot finish before the deadline and reports those records failed', async () => {
    // Prepare: 5 s client timeout + 1 s margin do not fit in 4 s of remaining time.
    const { worker } = stack.copy({}, 'worker');
    await stack.send(JSON.stringify({ UserAttrs: makeUsers(5, 'late') }));
    const event = await stack.receiveEvent();
    const setAttrCalls = () => stack.emulator.counters.callsByCommand.get('im_set_attr') ?? 0;
    const callsBefore = setAttrCalls();
    // Act
    const result = await worker(event, lambdaContext(4_000));
    // Assess
    expect(result.batchItemFailures).toHaveLength(1);
    expect(setAttrCalls()).toBe(callsBefore);
    expect(stack.emulator.attrs.has('late-0')).toBe(false);
  });

  it('puts the unfinished remainder of a large producer message back on the queue as chunks', async () => {
    // Prepare: the IM fails every call, so no chunk of the 3 can finish in this invocation.
    const { worker } = stack.copy({ IM_RETRY_MAX_ATTEMPTS: '1' }, 'worker');
    stack.emulator.setFaults({ p91000: 1 });
    await stack.send(JSON.stringify({ UserAttrs: makeUsers(250, 'remainder') }), { requestId: 'req-big' });
    // Act
    const result = await worker(await stack.receiveEvent(), lambdaContext(60_000));
    // Assess
    const requeued = await stack.takeAll(stack.overflowUrl);
    expect(result.batchItemFailures).toEqual([]);
    expect(requeued.map((m) => bodyUsers(m).length).sort()).toEqual([100, 100, 50]);
    expect(requeued.every((m) => attr(m, 'requestId') === 'req-big' && attr(m, 'origin') === 'worker-remainder')).toBe(true);
  });
});
