/**
 * Tags end to end through the local stack (the API and worker handlers, fauxqs FIFO queues, dynalite, the IM
 * emulator over HTTP): `POST /v1/user-tags` and producer messages of the intake queue travel in the users' lanes
 * with their attribute updates, and every user ends with the tag set of the accepted operations in order.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { apiEvent, lambdaContext, parseBody } from '../helpers/factories.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

const FLEET = { WORKER_MAX_CONCURRENCY: '2', API_RATE_SHARE: '10', API_MAX_CONCURRENCY: '1' };
const USERS = 400;

type Entry = { To_Account: string; RemoveAll?: true; Remove?: string[]; Add?: string[]; Tags?: string[] };

/** The model: operations applied one by one, as the contract orders them inside an entry. */
function applyEntry(held: Set<string>, entry: Entry): void {
  if (entry.RemoveAll === true) held.clear();
  for (const tag of entry.Remove ?? []) held.delete(tag);
  for (const tag of [...(entry.Add ?? []), ...(entry.Tags ?? [])]) held.add(tag);
}

describe('end to end: tags', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: FLEET });
    stack.startWorkers({ concurrency: 2 });
  });
  afterEach(() => stack.reset());
  afterAll(async () => {
    await stack.close();
  });

  it('webhooks and intake messages of tags, mixed with attributes, under transient faults: every tag set exact', async () => {
    // Prepare
    const ids = Array.from({ length: USERS }, (_, i) => `tagged-${i}`);
    const { api } = stack.copy();
    const model = new Map(ids.map((id) => [id, new Set<string>()]));
    const rounds: Entry[][] = [
      ids.map((To_Account, i) => ({ To_Account, Add: ['vip', `cohort-${i % 7}`, ...(i % 3 === 0 ? ['trial'] : [])] })),
      ids.map((To_Account, i) =>
        i % 4 === 0
          ? { To_Account, RemoveAll: true, Add: ['fresh'] }
          : { To_Account, Remove: ['trial'], Add: ['paid'] },
      ),
      // IM's own add shape, 12 tags for some users: more than one add call carries them.
      ids.map((To_Account, i) => ({
        To_Account,
        Tags: i % 5 === 0 ? Array.from({ length: 12 }, (_, k) => `bulk-${k}`) : ['trial'],
      })),
      ids.map((To_Account, i) =>
        i % 2 === 0 ? { To_Account, Remove: ['vip', 'trial'] } : { To_Account, Add: ['vip'] },
      ),
    ];
    stack.emulator.setFaults({ p70169: 0.05, pRateLimit: 0.02, pHttp502: 0.03 });

    // Act: each webhook after the previous answer; round 3 goes through the intake queue; attributes in between.
    const answers = [];
    for (const [index, entries] of rounds.entries()) {
      for (const entry of entries) applyEntry(model.get(entry.To_Account) ?? new Set(), entry);
      if (index === 2) {
        await stack.sendIntake(JSON.stringify({ UserTags: entries }), { groupId: 'crm' });
        await stack.intakeMoved(60_000);
        continue;
      }
      answers.push(
        await api(apiEvent(JSON.stringify({ UserTags: entries }), { path: '/v1/user-tags' }), lambdaContext()),
      );
      const attrs = ids.map((To_Account) => ({ To_Account, Attrs: { city: `round-${index}` } }));
      answers.push(await api(apiEvent(JSON.stringify({ UserAttrs: attrs })), lambdaContext()));
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    stack.emulator.setFaults({});
    await stack.drained(90_000);

    // Assess
    expect(answers.map((a) => a.statusCode)).toEqual([202, 202, 202, 202, 202, 202]);
    expect(parseBody(answers[0] ?? {})).toMatchObject({ Received: USERS, Accepted: USERS, Rejected: 0, Queued: USERS });
    const wrong = ids.filter(
      (id) =>
        JSON.stringify([...(stack.emulator.tags.get(id) ?? [])].sort()) !==
        JSON.stringify([...(model.get(id) ?? [])].sort()),
    );
    expect(wrong).toEqual([]);
    expect(ids.filter((id) => stack.emulator.attrs.get(id)?.['city'] !== 'round-3')).toEqual([]);
    expect(await stack.takeAll(stack.dlqUrl)).toEqual([]);
  }, 120_000);

  it("refuses bad entries by name and rule, keeps the good ones, and takes IM's remove-all shape", async () => {
    // Prepare
    const { api } = stack.copy();
    const body = {
      UserTags: [
        { To_Account: 'shape-1', Add: ['ok', 'x'.repeat(51)] },
        { To_Account: 'shape-2', Add: ['ok'] },
        { To_Account: 'shape-3' },
        { To_Account: 'shape-4', RemoveAll: false },
      ],
    };

    // Act
    const mixed = await api(apiEvent(JSON.stringify(body), { path: '/v1/user-tags' }), lambdaContext());
    await stack.drained(30_000);
    const cleared = await api(
      apiEvent(JSON.stringify({ To_Account: ['shape-2', 7] }), { path: '/v1/user-tags' }),
      lambdaContext(),
    );
    await stack.drained(30_000);
    const notTags = await api(apiEvent(JSON.stringify({ Users: [] }), { path: '/v1/user-tags' }), lambdaContext());

    // Assess
    expect(mixed.statusCode).toBe(202);
    expect(parseBody(mixed)).toMatchObject({
      Received: 4,
      Accepted: 1,
      Rejected: 3,
      RejectedUsers: [
        { To_Account: 'shape-1', Path: 'UserTags[0].Add[1]', Rule: 'tag-max-50-bytes' },
        { To_Account: 'shape-3', Path: 'UserTags[2]', Rule: 'tag-op-required' },
        { To_Account: 'shape-4', Path: 'UserTags[3].RemoveAll', Rule: 'remove-all-must-be-true' },
      ],
    });
    expect(mixed.body).not.toContain('x'.repeat(51));
    expect(cleared.statusCode).toBe(202);
    expect(parseBody(cleared)).toMatchObject({
      Accepted: 1,
      RejectedUsers: [{ To_Account: null, Path: 'To_Account[1]', Rule: 'to-account-must-be-string' }],
    });
    expect(stack.emulator.tags.get('shape-2') ?? new Set()).toEqual(new Set());
    expect(notTags.statusCode).toBe(400);
    expect(parseBody(notTags)).toMatchObject({ Rule: 'user-tags-must-be-array' });
  }, 60_000);
});
