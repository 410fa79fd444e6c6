import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiEvent, lambdaContext, makeUsers, TEST_CREDENTIALS } from '../helpers/factories.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

describe('secret key rotation mid-run', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      faults: { latencyMs: [20, 60] },
      env: { WORKER_MAX_CONCURRENCY: '2', ATTR_NAMES: 'sex,city,tier,lang' },
    });
  });
  afterAll(async () => {
    await stack.close();
  });

  it(
    're-reads the secret once after the first signature-wrong answer, loses nothing and makes no retry storm',
    { timeout: 90_000 },
    async () => {
      // Prepare: 12 webhooks of 1,000 users into the lanes (each with its early write of up to 100 users).
      const users = makeUsers(12_000, 'rot');
      const { api } = stack.copy();
      const statuses: number[] = [];
      for (let i = 0; i < users.length; i += 1_000) {
        statuses.push(
          (await api(apiEvent(JSON.stringify({ UserAttrs: users.slice(i, i + 1_000) })), lambdaContext())).statusCode ??
            0,
        );
      }
      stack.secrets.resetHistory();
      const workers = stack.startWorkers({ concurrency: 2 });
      const rotated = { ...TEST_CREDENTIALS, secretKey: 'rotated-key-0f1e2d3c4b5a69788796a5b4c3d2e1f0' };
      // Act: the key changes in Secrets Manager and in IM at the same moment, once a third of the users is applied.
      const until = Date.now() + 30_000;
      while (stack.emulator.counters.usersApplied < users.length / 3 && Date.now() < until)
        await new Promise((r) => setTimeout(r, 10));
      const appliedBefore = stack.emulator.counters.usersApplied;
      stack.secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(rotated) });
      stack.emulator.setSecretKey(rotated.secretKey);
      await stack.drained(60_000);
      await workers.stop();
      // Assess
      const failedSignature = stack.emulator.counters.rejectedByCode.get(70009) ?? 0;
      const reads = stack.secrets.commandCalls(GetSecretValueCommand).length;
      const missing = users.filter(
        (u) => JSON.stringify(stack.emulator.attrs.get(u.To_Account)) !== JSON.stringify(u.Attrs),
      );
      process.stdout.write(
        `rotation: ${appliedBefore} users applied before the rotation, ${failedSignature} calls refused with 70009, ${reads} secret reads\n`,
      );
      expect(statuses.every((s) => s === 202)).toBe(true);
      expect(appliedBefore).toBeGreaterThan(0);
      expect(appliedBefore).toBeLessThan(users.length);
      expect(missing).toEqual([]);
      expect(failedSignature).toBeGreaterThanOrEqual(1);
      // Only the calls already sent with the old key fail: at the grid's ~97 calls/s and the emulator's ≤ 60 ms
      // latency, at most ~6 are in flight when the first refusal comes back, plus one that was being signed.
      expect(failedSignature).toBeLessThanOrEqual(8);
      expect(stack.emulator.counters.rejectedByCode.get(70050) ?? 0).toBe(0);
      // One read at cold start of the worker copy, one re-read after the first signature-wrong answer.
      expect(reads).toBe(2);
      expect(await stack.takeAll(stack.dlqUrl)).toEqual([]);
    },
  );
});
