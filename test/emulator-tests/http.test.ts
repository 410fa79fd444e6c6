import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../../local/emulator/index.ts';
import { callIm, signedQuery, startTestEmulator, users } from './helpers.ts';

describe('HTTP routing and counters', () => {
  let emulator: Emulator;
  beforeEach(async () => {
    emulator = await startTestEmulator();
  });
  afterEach(() => emulator.close());

  it('answers 404 for an unknown path and an unknown command', async () => {
    // Act
    const root = await fetch(`${emulator.url}/`, { method: 'POST', body: '{}' });
    const unknown = await callIm(emulator, 'im_push', {});

    // Assess
    expect(root.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(emulator.counters.calls).toBe(2);
  });

  it('answers 405 for a GET on a known command', async () => {
    // Act
    const response = await fetch(`${emulator.url}/v4/all_member_push/im_set_attr?${signedQuery()}`);

    // Assess
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });

  it('answers 413 for a body over 1 MiB and applies nothing', async () => {
    // Prepare
    const body = JSON.stringify({ UserAttrs: users(1), padding: 'x'.repeat(1024 * 1024) });

    // Act
    const reply = await callIm(emulator, 'im_set_attr', body);

    // Assess
    expect(reply.status).toBe(413);
    expect(emulator.attrs.size).toBe(0);
  });

  it('counts calls per command, answers per code and users applied; resetCounters zeroes them in place', async () => {
    // Prepare
    const counters = emulator.counters;
    await callIm(emulator, 'im_set_attr', { UserAttrs: users(3) });
    await callIm(emulator, 'im_set_attr', { UserAttrs: users(101) });
    await callIm(emulator, 'im_get_attr_name', {});
    const before = {
      calls: counters.calls,
      byCommand: Object.fromEntries(counters.callsByCommand),
      ok: counters.ok,
      rejected: Object.fromEntries(counters.rejectedByCode),
      usersApplied: counters.usersApplied,
      maxWindow: counters.maxCallsInAnyWindow,
    };

    // Act
    emulator.resetCounters();

    // Assess
    expect(before).toEqual({
      calls: 3,
      byCommand: { im_set_attr: 2, im_get_attr_name: 1 },
      ok: 2,
      rejected: { 90018: 1 },
      usersApplied: 3,
      maxWindow: 2,
    });
    expect(emulator.counters).toBe(counters);
    expect(counters).toMatchObject({ calls: 0, ok: 0, usersApplied: 0, maxCallsInAnyWindow: 0 });
    expect(counters.callsByCommand.size).toBe(0);
    expect(counters.rejectedByCode.size).toBe(0);
    expect(emulator.attrs.size).toBe(3);
  });

  it('serves concurrent calls on pooled connections', async () => {
    // Prepare
    const batches = Array.from({ length: 50 }, (_, i) => ({ UserAttrs: users(100, { tier: String(i) }, `b${i}-`) }));

    // Act
    const replies = await Promise.all(batches.map((body) => callIm(emulator, 'im_set_attr', body)));

    // Assess
    expect(replies.every((r) => r.json?.['ErrorCode'] === 0)).toBe(true);
    expect(emulator.attrs.size).toBe(5000);
    expect(emulator.counters.usersApplied).toBe(5000);
  });
});
