import { describe, expect, it } from 'vitest';
import { formatTally, runSoak } from './soak.ts';

describe('fault soak', () => {
  it(
    'loses nothing: 50,000 users through webhooks and producer messages under ~20% transient faults, each ending with its last value',
    { timeout: 240_000 },
    async () => {
      // Prepare
      const users = 50_000;
      // Act
      const tally = await runSoak({ users, seed: 20261126, log: (l) => process.stdout.write(`${l}\n`) });
      // Assess
      process.stdout.write(`${formatTally(tally)}\n`);
      expect(tally.received).toBe(tally.goodEntries + tally.bad);
      expect(tally.received).toBeGreaterThanOrEqual(users);
      expect(tally.goodEntries).toBeGreaterThan(tally.good);
      expect(tally.lost).toBe(0);
      expect(tally.wronglyDeadLettered).toBe(0);
      expect(tally.wronglyRejected).toBe(0);
      expect(tally.omitted).toBe(0);
      expect(tally.applied).toBe(tally.good);
      expect(tally.rejected + tally.deadLettered).toBe(tally.bad);
      expect(tally.bad).toBeGreaterThan(0);
      expect(tally.rejected).toBeGreaterThan(0);
      expect(tally.deadLettered).toBeGreaterThan(0);
      expect(tally.faultsInjected / tally.imCalls).toBeGreaterThan(0.1);
    },
  );
});
