import { describe, expect, it } from 'vitest';
import { formatTally, runSoak } from './soak.ts';

describe('fault soak', () => {
  it(
    'loses nothing: 50,000 users (and tags for ~40 % of them) through webhooks and producer messages under ~20% transient faults, each ending with its last value and exact tag set',
    { timeout: 240_000 },
    async () => {
      // Prepare
      const users = 50_000;
      // Act
      const tally = await runSoak({ users, seed: 20261126, log: (l) => process.stdout.write(`${l}\n`) });
      // Assess
      process.stdout.write(`${formatTally(tally)}\n`);
      expect(tally.received).toBe(tally.goodEntries + tally.bad - tally.badTags);
      expect(tally.badTags).toBeGreaterThan(0);
      expect(tally.received).toBeGreaterThanOrEqual(users);
      expect(tally.goodEntries).toBeGreaterThan(tally.good);
      expect(tally.lost).toBe(0);
      expect(tally.wronglyDeadLettered).toBe(0);
      expect(tally.wronglyRejected).toBe(0);
      expect(tally.omitted).toBe(0);
      expect(tally.applied).toBe(tally.good);
      expect(tally.tagged).toBeGreaterThan(10_000);
      expect(tally.tagEntries).toBeGreaterThan(tally.tagged);
      expect(tally.tagsApplied).toBe(tally.tagged);
      expect(tally.rejected + tally.deadLettered).toBe(tally.bad);
      expect(tally.bad).toBeGreaterThan(0);
      expect(tally.rejected).toBeGreaterThan(0);
      expect(tally.deadLettered).toBeGreaterThan(0);
      expect(tally.faultsInjected / tally.imCalls).toBeGreaterThan(0.1);
    },
  );
});
