import { afterEach, describe, expect, it } from 'vitest';
import type { Emulator, FaultOptions } from '../../local/emulator/index.ts';
import { callIm, signedQuery, startTestEmulator, users } from './helpers.ts';

/** One call's outcome in a comparable form: an IM code, an HTTP status or a network failure. */
async function outcome(emulator: Emulator, account: string): Promise<string> {
  try {
    const reply = await callIm(emulator, 'im_set_attr', { UserAttrs: [{ To_Account: account, Attrs: { sex: 'f' } }] });
    return reply.json === undefined ? `http ${reply.status}` : `code ${String(reply.json['ErrorCode'])}`;
  } catch {
    return 'network error';
  }
}

describe('injected faults', () => {
  let emulator: Emulator | undefined;
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
  });

  it.each([
    [{ p91000: 1 }, 91000],
    [{ p70169: 1 }, 70169],
    [{ p60008: 1 }, 60008],
    [{ pRateLimit: 1 }, 60007],
  ] as const)(
    '%o answers HTTP 200 with ErrorCode %i and applies nothing',
    async (faults: FaultOptions, code: number) => {
      // Prepare
      emulator = await startTestEmulator({ faults });

      // Act
      const reply = await callIm(emulator, 'im_set_attr', { UserAttrs: users(2) });

      // Assess
      expect(reply.status).toBe(200);
      expect(reply.json).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: code });
      expect(emulator.attrs.size).toBe(0);
      expect(emulator.counters.rejectedByCode.get(code)).toBe(1);
    },
  );

  it('pHttp502 answers HTTP 502 without an IM body', async () => {
    // Prepare
    emulator = await startTestEmulator({ faults: { pHttp502: 1 } });

    // Act
    const reply = await callIm(emulator, 'im_set_attr', { UserAttrs: users(1) });

    // Assess
    expect(reply.status).toBe(502);
    expect(reply.json).toBeUndefined();
    expect(emulator.counters.http502).toBe(1);
    expect(emulator.attrs.size).toBe(0);
  });

  it('pReset destroys the socket, so fetch rejects', async () => {
    // Prepare
    emulator = await startTestEmulator({ faults: { pReset: 1 } });

    // Act
    const call = callIm(emulator, 'im_set_attr', { UserAttrs: users(1) });

    // Assess
    await expect(call).rejects.toThrow();
    expect(emulator.counters.resets).toBe(1);
    expect(emulator.attrs.size).toBe(0);
  });

  it('pSlow applies the call but answers only after slowMs', async () => {
    // Prepare
    emulator = await startTestEmulator({ faults: { pSlow: 1, slowMs: 150 } });
    const started = performance.now();

    // Act
    const reply = await callIm(emulator, 'im_set_attr', { UserAttrs: users(1) });

    // Assess
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(reply.json?.['ErrorCode']).toBe(0);
    expect(emulator.counters.slow).toBe(1);
    expect(emulator.attrs.has('u0')).toBe(true);
  });

  it('a slow answer outlives a client timeout, and close() does not wait for it', async () => {
    // Prepare
    emulator = await startTestEmulator({ faults: { pSlow: 1 } });
    const call = callIm(emulator, 'im_set_attr', { UserAttrs: users(1) }, signedQuery(), {
      signal: AbortSignal.timeout(100),
    });
    await expect(call).rejects.toThrow();
    const started = performance.now();

    // Act
    await emulator.close();

    // Assess
    expect(performance.now() - started).toBeLessThan(1000);
    expect(emulator.attrs.has('u0')).toBe(true);
  });

  it('latencyMs delays every answer within its range', async () => {
    // Prepare
    emulator = await startTestEmulator({ faults: { latencyMs: [60, 80] } });
    const started = performance.now();

    // Act
    const reply = await callIm(emulator, 'im_get_attr_name', {});

    // Assess
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    expect(reply.json?.['ErrorCode']).toBe(0);
  });

  it('applies faults only after authentication passes', async () => {
    // Prepare
    emulator = await startTestEmulator({ faults: { p91000: 1 } });

    // Act
    const reply = await callIm(emulator, 'im_set_attr', { UserAttrs: users(1) }, signedQuery({ identifier: 'nobody' }));

    // Assess
    expect(reply.json?.['ErrorCode']).toBe(90009);
    expect(emulator.counters.rejectedByCode.has(91000)).toBe(false);
  });

  it('gives the same fault sequence for the same seed, and another for another seed', async () => {
    // Prepare
    const faults: FaultOptions = { p91000: 0.2, pRateLimit: 0.2, pHttp502: 0.2, pReset: 0.1 };
    const runWithSeed = async (seed: number): Promise<string[]> => {
      const emu = await startTestEmulator({ faults, seed, rateLimitPerSecond: 0 });
      try {
        const seen: string[] = [];
        for (let i = 0; i < 40; i++) seen.push(await outcome(emu, `u${i}`));
        return seen;
      } finally {
        await emu.close();
      }
    };

    // Act
    const first = await runWithSeed(42);
    const second = await runWithSeed(42);
    const other = await runWithSeed(43);

    // Assess
    expect(second).toEqual(first);
    expect(other).not.toEqual(first);
    expect(new Set(first)).toEqual(new Set(['code 0', 'code 91000', 'code 60007', 'http 502', 'network error']));
  });

  it('setFaults switches the plan at run time and restarts the sequence with a seed', async () => {
    // Prepare
    emulator = await startTestEmulator();
    const before = await outcome(emulator, 'a');

    // Act
    emulator.setFaults({ pHttp502: 1 }, 7);
    const during = await outcome(emulator, 'b');
    emulator.setFaults({});
    const after = await outcome(emulator, 'c');

    // Assess
    expect([before, during, after]).toEqual(['code 0', 'http 502', 'code 0']);
  });

  it('rejects fault probabilities outside [0, 1] or adding up to more than 1', async () => {
    // Act
    const outOfRange = startTestEmulator({ faults: { pReset: 1.5 } });
    const tooMuch = startTestEmulator({ faults: { pReset: 0.6, pSlow: 0.6 } });

    // Assess
    await expect(outOfRange).rejects.toMatchObject({ name: 'EmulatorOptionsError', option: 'faults.pReset' });
    await expect(tooMuch).rejects.toMatchObject({ name: 'EmulatorOptionsError', option: 'faults' });
  });
});
