import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { parseWebhookSecret, SecretFormatError } from '../../lib/credentials/secret-schema.ts';
import { WebhookSecretSource } from '../../lib/credentials/webhook-secret-source.ts';

const WHSEC = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const sm = mockClient(SecretsManagerClient);
afterEach(() => sm.reset());

describe('parseWebhookSecret', () => {
  it('takes the whsec_ value alone or as {"webhookSecret": …}', () => {
    // Act / Assess
    expect(parseWebhookSecret(WHSEC)).toBe(WHSEC);
    expect(parseWebhookSecret(JSON.stringify({ webhookSecret: WHSEC }))).toBe(WHSEC);
  });

  it.each([
    ['a value without the prefix', 'not-a-webhook-secret-at-all'],
    ['a key under 24 bytes', `whsec_${Buffer.alloc(8, 1).toString('base64')}`],
    ['JSON without the field', '{"secret":"x"}'],
    ['broken JSON', '{"webhookSecret":'],
  ])('refuses %s, naming the rule and never the value', (_label, value) => {
    // Act
    let error: unknown;
    try {
      parseWebhookSecret(value);
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect(error).toBeInstanceOf(SecretFormatError);
    expect(error instanceof Error ? error.message : '').toMatch(/webhook secret/);
    expect(error instanceof Error ? error.message : '').not.toContain(value.slice(6, 20));
  });
});

describe('WebhookSecretSource', () => {
  it('reads its own secret once per TTL, concurrent callers sharing one read', async () => {
    // Prepare
    let now = 1_000;
    sm.on(GetSecretValueCommand, { SecretId: 'tim-attr-gateway/dev/webhook' }).resolves({ SecretString: WHSEC });
    const source = new WebhookSecretSource({
      client: new SecretsManagerClient({ region: 'ap-southeast-1' }),
      secretId: 'tim-attr-gateway/dev/webhook',
      cacheTtlSeconds: 60,
      now: () => now,
    });

    // Act
    const [a, b] = await Promise.all([source.get(), source.get()]);
    now += 59_000;
    await source.get();
    const readsWithinTtl = sm.commandCalls(GetSecretValueCommand).length;
    now += 1_000;
    await source.get();

    // Assess
    expect([a, b]).toEqual([WHSEC, WHSEC]);
    expect(readsWithinTtl).toBe(1);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });
});
