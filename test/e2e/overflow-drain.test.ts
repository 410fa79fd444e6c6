import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiEvent, lambdaContext, makeUsers, parseBody } from '../helpers/factories.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

describe('end to end: webhook → inline + overflow queue → worker fleet → IM', () => {
  let stack: Stack;
  const fleet = { WORKER_MAX_CONCURRENCY: '2', API_RATE_SHARE: '10', API_MAX_CONCURRENCY: '1' };
  beforeAll(async () => {
    stack = await startStack({ env: fleet });
  });
  afterAll(async () => {
    await stack.close();
  });

  it('applies every one of 25,000 users posted in one signed webhook', async () => {
    // Prepare
    const users = makeUsers(25_000, 'e2e');
    const { api } = stack.copy();
    stack.startWorkers({ concurrency: 2 });
    // Act
    const result = await api(apiEvent(JSON.stringify({ UserAttrs: users })), lambdaContext());
    await stack.drained(60_000);
    // Assess
    const body = parseBody(result);
    expect(result.statusCode).toBe(202);
    expect(body).toMatchObject({ Received: 25_000, Rejected: 0 });
    expect(Number(body.Applied) + Number(body.Queued)).toBe(25_000);
    expect(Number(body.Queued)).toBeGreaterThan(0);
    const missing = users.filter((u) => JSON.stringify(stack.emulator.attrs.get(u.To_Account)) !== JSON.stringify(u.Attrs));
    expect(missing).toEqual([]);
    // The fleet's shares add up to IM's limit; a rare rate-limit answer when windows line up is retried.
    const calls = stack.emulator.counters.callsByCommand.get('im_set_attr') ?? 0;
    expect(stack.emulator.counters.rejectedByCode.get(60007) ?? 0).toBeLessThanOrEqual(Math.ceil(calls * 0.01));
    expect(await stack.takeAll(stack.dlqUrl)).toEqual([]);
  });

  it('applies a producer message sent straight to the queue the same way', async () => {
    // Prepare
    const users = makeUsers(1_234, 'producer-e2e');
    // Act
    await stack.send(JSON.stringify({ UserAttrs: users }));
    await new Promise((r) => setTimeout(r, 200));
    await stack.drained(30_000);
    // Assess
    expect(users.every((u) => stack.emulator.attrs.has(u.To_Account))).toBe(true);
    expect(await stack.takeAll(stack.dlqUrl)).toEqual([]);
  });
});
