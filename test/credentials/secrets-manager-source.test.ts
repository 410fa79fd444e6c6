import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SecretFormatError } from '../../lib/credentials/secret-schema.ts';
import { SecretsManagerSource } from '../../lib/credentials/secrets-manager-source.ts';
import { TEST_CREDENTIALS } from '../helpers/factories.ts';

const SECRET_ID = 'tim-attr-gateway/test';
const secretOf = (secretKey: string): string => JSON.stringify({ ...TEST_CREDENTIALS, secretKey });
const ROTATED_KEY = 'rotated-secret-key-0b1c2d3e4f5a6b7c8d9e';

const sm = mockClient(SecretsManagerClient);

/** A clock the test moves by hand. */
function manualClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

const reads = (): number => sm.commandCalls(GetSecretValueCommand).length;

describe('SecretsManagerSource', () => {
  beforeEach(() => {
    sm.reset();
  });
  afterEach(() => {
    sm.reset();
  });

  it('reads and parses the secret named by secretId', async () => {
    // Prepare
    sm.on(GetSecretValueCommand).resolves({ SecretString: secretOf(TEST_CREDENTIALS.secretKey) });
    const source = new SecretsManagerSource({
      client: new SecretsManagerClient({ region: 'ap-southeast-1' }),
      secretId: SECRET_ID,
    });

    // Act
    const credentials = await source.get();

    // Assess
    expect(credentials).toEqual(TEST_CREDENTIALS);
    expect(reads()).toBe(1);
    expect(sm.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({ SecretId: SECRET_ID });
  });

  it('serves get() from cache, renews the read in the background ahead of the TTL, and then serves the new value', async () => {
    // Prepare
    const clock = manualClock();
    sm.on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: secretOf(TEST_CREDENTIALS.secretKey) })
      .resolves({ SecretString: secretOf(ROTATED_KEY) });
    const source = new SecretsManagerSource({
      client: new SecretsManagerClient({}),
      secretId: SECRET_ID,
      cacheTtlSeconds: 60,
      refreshAheadSeconds: 10,
      now: clock.now,
    });
    await source.get();

    // Act
    clock.advance(49_999);
    const beforeAhead = await source.get();
    const readsBeforeAhead = reads();
    clock.advance(1);
    const atAhead = await source.get();
    await new Promise((resolve) => setImmediate(resolve));
    const afterRenewal = await source.get();

    // Assess: the call at the renewal point did not wait for the read
    expect(beforeAhead.secretKey).toBe(TEST_CREDENTIALS.secretKey);
    expect(readsBeforeAhead).toBe(1);
    expect(atAhead.secretKey).toBe(TEST_CREDENTIALS.secretKey);
    expect(afterRenewal.secretKey).toBe(ROTATED_KEY);
    expect(reads()).toBe(2);
  });

  it('caches for 300 s by default and renews 60 s ahead', async () => {
    // Prepare
    const clock = manualClock();
    sm.on(GetSecretValueCommand).resolves({ SecretString: secretOf(TEST_CREDENTIALS.secretKey) });
    const source = new SecretsManagerSource({
      client: new SecretsManagerClient({}),
      secretId: SECRET_ID,
      now: clock.now,
    });
    await source.get();

    // Act
    clock.advance(239_999);
    await source.get();
    const readsBefore = reads();
    clock.advance(1);
    await source.get();

    // Assess
    expect(readsBefore).toBe(1);
    expect(reads()).toBe(2);
  });

  it('keeps answering from cache while a slow read is under way past the TTL, and waits only past twice the TTL', async () => {
    // Prepare: the second read hangs until released
    const clock = manualClock();
    let release: () => void = () => undefined;
    const hanging = new Promise<void>((resolve) => (release = resolve));
    sm.on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: secretOf(TEST_CREDENTIALS.secretKey) })
      .callsFake(async () => {
        await hanging;
        return { SecretString: secretOf(ROTATED_KEY) };
      });
    const source = new SecretsManagerSource({
      client: new SecretsManagerClient({}),
      secretId: SECRET_ID,
      cacheTtlSeconds: 60,
      now: clock.now,
    });
    await source.get();

    // Act
    clock.advance(61_000);
    const pastTtl = await source.get();
    clock.advance(60_000);
    let settled = false;
    const pastTwice = source.get().then((c) => ((settled = true), c));
    await new Promise((resolve) => setImmediate(resolve));
    const waited = !settled;
    release();

    // Assess
    expect(pastTtl.secretKey).toBe(TEST_CREDENTIALS.secretKey);
    expect(waited).toBe(true);
    expect((await pastTwice).secretKey).toBe(ROTATED_KEY);
  });

  it('refresh() bypasses a fresh cache and later get() calls see the new value', async () => {
    // Prepare
    const clock = manualClock();
    sm.on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: secretOf(TEST_CREDENTIALS.secretKey) })
      .resolves({ SecretString: secretOf(ROTATED_KEY) });
    const source = new SecretsManagerSource({
      client: new SecretsManagerClient({}),
      secretId: SECRET_ID,
      now: clock.now,
    });
    await source.get();

    // Act
    const refreshed = await source.refresh();
    const afterwards = await source.get();

    // Assess
    expect(refreshed.secretKey).toBe(ROTATED_KEY);
    expect(afterwards.secretKey).toBe(ROTATED_KEY);
    expect(reads()).toBe(2);
  });

  it('shares one GetSecretValue among 100 concurrent refresh() calls', async () => {
    // Prepare
    sm.on(GetSecretValueCommand).resolves({ SecretString: secretOf(ROTATED_KEY) });
    const source = new SecretsManagerSource({ client: new SecretsManagerClient({}), secretId: SECRET_ID });

    // Act
    const results = await Promise.all(Array.from({ length: 100 }, () => source.refresh()));

    // Assess
    expect(reads()).toBe(1);
    expect(new Set(results).size).toBe(1);
    expect(results[0]?.secretKey).toBe(ROTATED_KEY);
  });

  it('shares one GetSecretValue among concurrent get() calls on a cold cache', async () => {
    // Prepare
    sm.on(GetSecretValueCommand).resolves({ SecretString: secretOf(TEST_CREDENTIALS.secretKey) });
    const source = new SecretsManagerSource({ client: new SecretsManagerClient({}), secretId: SECRET_ID });

    // Act
    await Promise.all(Array.from({ length: 20 }, () => source.get()));

    // Assess
    expect(reads()).toBe(1);
  });

  it('starts a new read after the previous one settled', async () => {
    // Prepare
    sm.on(GetSecretValueCommand).resolves({ SecretString: secretOf(TEST_CREDENTIALS.secretKey) });
    const source = new SecretsManagerSource({ client: new SecretsManagerClient({}), secretId: SECRET_ID });
    await source.refresh();

    // Act
    await source.refresh();

    // Assess
    expect(reads()).toBe(2);
  });

  it('refuses a secret stored as SecretBinary only', async () => {
    // Prepare
    sm.on(GetSecretValueCommand).resolves({
      SecretBinary: new TextEncoder().encode(secretOf(TEST_CREDENTIALS.secretKey)),
    });
    const source = new SecretsManagerSource({ client: new SecretsManagerClient({}), secretId: SECRET_ID });

    // Act
    const outcome = source.get();

    // Assess
    await expect(outcome).rejects.toThrow(
      'the credentials secret has no SecretString (binary secrets are not supported)',
    );
  });

  it('passes on a malformed secret as a SecretFormatError', async () => {
    // Prepare
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ ...TEST_CREDENTIALS, sdkAppId: 'x' }) });
    const source = new SecretsManagerSource({ client: new SecretsManagerClient({}), secretId: SECRET_ID });

    // Act
    const outcome = source.get();

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(SecretFormatError);
  });

  it('does not cache a failed read: the next call asks again and succeeds', async () => {
    // Prepare
    sm.on(GetSecretValueCommand)
      .rejectsOnce(new Error('ThrottlingException'))
      .resolves({ SecretString: secretOf(TEST_CREDENTIALS.secretKey) });
    const source = new SecretsManagerSource({ client: new SecretsManagerClient({}), secretId: SECRET_ID });
    const first = await source.get().then(
      () => 'resolved',
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );

    // Act
    const second = await source.get();

    // Assess
    expect(first).toBe('ThrottlingException');
    expect(second.secretKey).toBe(TEST_CREDENTIALS.secretKey);
    expect(reads()).toBe(2);
  });

  it('keeps serving the cached value while fresh even after a failed refresh', async () => {
    // Prepare
    const clock = manualClock();
    sm.on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: secretOf(TEST_CREDENTIALS.secretKey) })
      .rejects(new Error('AccessDeniedException'));
    const source = new SecretsManagerSource({
      client: new SecretsManagerClient({}),
      secretId: SECRET_ID,
      now: clock.now,
    });
    await source.get();
    await expect(source.refresh()).rejects.toThrow('AccessDeniedException');

    // Act
    const cached = await source.get();

    // Assess
    expect(cached.secretKey).toBe(TEST_CREDENTIALS.secretKey);
    expect(reads()).toBe(2);
  });
});
