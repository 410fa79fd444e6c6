import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import { CountedDeadLetters, DeadLetterRecorder } from '../../lib/observability/dead-letter-metrics.ts';
import type { DeadLetter } from '../../lib/core/ports.ts';
import { captureStdout, dimensionSetsOf, total } from '../helpers/emf-capture.ts';
import { FakeDeadLetters } from '../helpers/fakes.ts';

const letter = (rule: string, users = 1): DeadLetter => ({
  entries: Array.from({ length: users }, (_, i) => ({ To_Account: `u${i}`, Attrs: { city: 'x' } })),
  why: { rule, reason: 'test', requestId: 'req-1' },
});

function recorder(): { metrics: Metrics; counts: DeadLetterRecorder } {
  const metrics = new Metrics({ namespace: 'TimAttrGateway', serviceName: 'tim-attr-gateway-test' });
  return { metrics, counts: new DeadLetterRecorder(metrics) };
}

describe('dead letters by rule (DeadLetters, dimension Rule)', () => {
  it('counts the letters the queue took, one metric per rule under [service, Rule]', async () => {
    // Prepare
    const { counts } = recorder();
    const queue = new CountedDeadLetters(new FakeDeadLetters(), counts);
    await queue.send([letter('attr-name-unregistered', 3), letter('im-error-70107')]);
    await queue.send([letter('attr-name-unregistered')]);

    // Act
    const { emf } = await captureStdout(() => counts.flush());

    // Assess
    expect(total(emf, 'DeadLetters', ['Rule', 'attr-name-unregistered'])).toBe(2);
    expect(total(emf, 'DeadLetters', ['Rule', 'im-error-70107'])).toBe(1);
    expect(dimensionSetsOf(emf, 'DeadLetters')).toEqual([[['service', 'Rule']], [['service', 'Rule']]]);
    expect(
      emf.every(
        (d) =>
          d['service'] === 'tim-attr-gateway-test' &&
          d._aws.CloudWatchMetrics.every((m) => m.Namespace === 'TimAttrGateway'),
      ),
    ).toBe(true);
  });

  it('counts nothing for a send the queue refused, and starts afresh after a flush', async () => {
    // Prepare
    const { counts } = recorder();
    const inner = new FakeDeadLetters().failNext();
    const queue = new CountedDeadLetters(inner, counts);
    await expect(queue.send([letter('outage-tolerance-exceeded')])).rejects.toThrow();
    await queue.send([letter('relane-window-exceeded')]);

    // Act
    const first = await captureStdout(() => counts.flush());
    const second = await captureStdout(() => counts.flush());

    // Assess
    expect(inner.sends).toBe(2);
    expect(total(first.emf, 'DeadLetters', ['Rule', 'outage-tolerance-exceeded'])).toBe(0);
    expect(total(first.emf, 'DeadLetters')).toBe(1);
    expect(total(first.emf, 'DeadLetters', ['Rule', 'relane-window-exceeded'])).toBe(1);
    expect(second.emf).toEqual([]);
  });
});
