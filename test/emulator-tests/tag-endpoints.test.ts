import { afterEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../../local/emulator/index.ts';
import { callIm, startTestEmulator } from './helpers.ts';

describe('the tag commands (docs 269/45940-45943)', () => {
  let emulator: Emulator | undefined;
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
  });
  const started = async (options: Parameters<typeof startTestEmulator>[0] = {}): Promise<Emulator> =>
    (emulator = await startTestEmulator(options));
  const tagsOf = async (im: Emulator, ...accounts: string[]): Promise<unknown> =>
    (await callIm(im, 'im_get_tag', { To_Account: accounts })).json?.['UserTags'];

  it('adds, removes and removes all, and im_get_tag reads each user back', async () => {
    // Prepare
    const im = await started();

    // Act
    const added = await callIm(im, 'im_add_tag', {
      UserTags: [
        { To_Account: 'u1', Tags: ['vip', 'beta'] },
        { To_Account: 'u2', Tags: ['vip'] },
      ],
    });
    const removed = await callIm(im, 'im_remove_tag', { UserTags: [{ To_Account: 'u1', Tags: ['beta', 'absent'] }] });
    const afterRemove = await tagsOf(im, 'u1', 'u2', 'u3');
    const cleared = await callIm(im, 'im_remove_all_tags', { To_Account: ['u2'] });
    const afterClear = await tagsOf(im, 'u1', 'u2');

    // Assess
    expect([added.json?.['ErrorCode'], removed.json?.['ErrorCode'], cleared.json?.['ErrorCode']]).toEqual([0, 0, 0]);
    expect(afterRemove).toEqual([
      { To_Account: 'u1', Tags: ['vip'] },
      { To_Account: 'u2', Tags: ['vip'] },
      { To_Account: 'u3', Tags: [] },
    ]);
    expect(afterClear).toEqual([
      { To_Account: 'u1', Tags: ['vip'] },
      { To_Account: 'u2', Tags: [] },
    ]);
  });

  it.each([
    [
      '11 tags added for one user',
      { UserTags: [{ To_Account: 'u1', Tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }] },
      60003,
    ],
    ['a 51-byte tag', { UserTags: [{ To_Account: 'u1', Tags: ['t'.repeat(51)] }] }, 60003],
    ['an empty tag', { UserTags: [{ To_Account: 'u1', Tags: [''] }] }, 60003],
    ['101 users', { UserTags: Array.from({ length: 101 }, (_, i) => ({ To_Account: `u${i}`, Tags: ['x'] })) }, 90018],
    ['no UserTags', {}, 90001],
  ] as const)('im_add_tag refuses %s with %i and applies nothing', async (_label, body, code) => {
    // Prepare
    const im = await started();

    // Act
    const reply = await callIm(im, 'im_add_tag', body);

    // Assess
    expect(reply.json?.['ErrorCode']).toBe(code);
    expect(await tagsOf(im, 'u1')).toEqual([{ To_Account: 'u1', Tags: [] }]);
  });

  it('refuses an add that would give a user more than 100 tags (inferred answer: 60003), and keeps the 100', async () => {
    // Prepare: a user with 100 tags, added 10 at a time
    const im = await started();
    for (let round = 0; round < 10; round++)
      await callIm(im, 'im_add_tag', {
        UserTags: [{ To_Account: 'u1', Tags: Array.from({ length: 10 }, (_, i) => `t${round * 10 + i}`) }],
      });

    // Act
    const over = await callIm(im, 'im_add_tag', { UserTags: [{ To_Account: 'u1', Tags: ['one-more'] }] });
    const again = await callIm(im, 'im_add_tag', { UserTags: [{ To_Account: 'u1', Tags: ['t5'] }] });

    // Assess: a tag the user holds already adds nothing, so it passes
    expect(over.json?.['ErrorCode']).toBe(60003);
    expect(again.json?.['ErrorCode']).toBe(0);
    const [held] = (await tagsOf(im, 'u1')) as { Tags: string[] }[];
    expect(held?.Tags).toHaveLength(100);
  });

  it('lists an account IM does not know in ErrorList (70107) and tags the others', async () => {
    // Prepare
    const im = await started({ partialFailureAccounts: new Set(['ghost']) });

    // Act
    const reply = await callIm(im, 'im_add_tag', {
      UserTags: [
        { To_Account: 'u1', Tags: ['vip'] },
        { To_Account: 'ghost', Tags: ['vip'] },
      ],
    });

    // Assess
    expect(reply.json?.['ErrorList']).toEqual([{ To_Account: 'ghost', ErrorCode: 70107 }]);
    expect(await tagsOf(im, 'u1', 'ghost')).toEqual([
      { To_Account: 'u1', Tags: ['vip'] },
      { To_Account: 'ghost', Tags: [] },
    ]);
  });
});
