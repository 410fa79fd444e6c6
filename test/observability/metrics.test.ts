import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { apiEvent, lambdaContext, makeUsers } from '../helpers/factories.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

interface EmfLine {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

/** Runs `act` and returns the EMF documents and log lines it wrote to stdout. */
async function captureStdout(act: () => Promise<unknown>): Promise<{ emf: EmfLine[]; logs: Record<string, unknown>[] }> {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter((l) => l.trim() !== ''));
    return true;
  });
  try {
    await act();
  } finally {
    spy.mockRestore();
  }
  const docs = lines.flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
  return { emf: docs.filter((d): d is EmfLine => '_aws' in d), logs: docs.filter((d) => !('_aws' in d)) };
}

/** Sum of a metric across EMF documents, optionally only those with a dimension value. */
function total(emf: EmfLine[], name: string, dimension?: [string, string]): number {
  return emf
    .filter((d) => d._aws.CloudWatchMetrics.some((m) => m.Metrics.some((x) => x.Name === name)))
    .filter((d) => dimension === undefined || d[dimension[0]] === dimension[1])
    .reduce((sum, d) => {
      const v = d[name];
      return sum + (Array.isArray(v) ? v.length : Number(v));
    }, 0);
}

describe('metrics and structured logs', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack.close();
  });

  it('emits the user counts, IM calls by ErrorCode and latency for a known webhook', async () => {
    // Prepare: 250 users, 2 of them bad; inline budget 2 calls → 200 applied, 48 queued.
    const { api } = stack.copy({ API_INLINE_CALLS: '2', ATTR_NAMES: 'sex,city,tier,lang' });
    const users = [...makeUsers(248, 'metrics'), { To_Account: 'bad-1', Attrs: { planet: 'x' } }, { To_Account: 'bad-2', Attrs: { city: 7 } }];
    const event = apiEvent(JSON.stringify({ UserAttrs: users }));
    // Act
    const { emf, logs } = await captureStdout(() => api(event, lambdaContext()));
    // Assess
    expect(emf.every((d) => d._aws.CloudWatchMetrics.every((m) => m.Namespace === 'TimAttrGateway'))).toBe(true);
    expect(total(emf, 'UsersReceived')).toBe(250);
    expect(total(emf, 'UsersApplied')).toBe(200);
    expect(total(emf, 'UsersQueued')).toBe(48);
    expect(total(emf, 'UsersRejected')).toBe(2);
    expect(total(emf, 'ImCalls', ['ErrorCode', '0'])).toBe(2);
    expect(total(emf, 'ImLatency')).toBe(2);
    const requestLines = logs.filter((l) => l.requestId !== undefined);
    expect(requestLines.length).toBeGreaterThan(0);
    expect(requestLines.every((l) => l.requestId === event.requestContext.requestId && l.function_request_id !== undefined)).toBe(true);
    await stack.takeAll(stack.overflowUrl);
  });

  it('counts retries, rate-limit answers and dead-lettered users in the worker', async () => {
    // Prepare: every first attempt is rate-limited (seeded), then the emulator recovers.
    const { worker } = stack.copy({ ATTR_NAMES: 'sex,city,tier,lang' }, 'worker');
    await stack.send(JSON.stringify({ UserAttrs: [...makeUsers(50, 'wm'), { To_Account: 'dead-1', Attrs: { planet: 'x' } }] }));
    const event = await stack.receiveEvent();
    stack.emulator.setFaults({ pRateLimit: 1 });
    setTimeout(() => stack.emulator.setFaults({}), 150);
    // Act
    const { emf } = await captureStdout(() => worker(event, lambdaContext(60_000)));
    // Assess
    expect(total(emf, 'UsersReceived')).toBe(51);
    expect(total(emf, 'UsersApplied')).toBe(50);
    expect(total(emf, 'UsersDeadLettered')).toBe(1);
    expect(total(emf, 'ImRateLimited')).toBeGreaterThanOrEqual(1);
    expect(total(emf, 'ImRetries')).toBeGreaterThanOrEqual(1);
    expect(total(emf, 'ImCalls', ['ErrorCode', '60007'])).toBe(total(emf, 'ImRateLimited'));
    expect(total(emf, 'ImCalls', ['ErrorCode', '0'])).toBe(1);
    await stack.takeAll(stack.dlqUrl);
  });
});
