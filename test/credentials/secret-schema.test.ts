import { describe, expect, it } from 'vitest';
import { parseSecret, SecretFormatError } from '../../lib/credentials/secret-schema.ts';
import { TEST_CREDENTIALS } from '../helpers/factories.ts';

const VALID = {
  sdkAppId: TEST_CREDENTIALS.sdkAppId,
  identifier: TEST_CREDENTIALS.identifier,
  secretKey: TEST_CREDENTIALS.secretKey,
  webhookSecret: TEST_CREDENTIALS.webhookSecret,
};

/** Runs `parseSecret` and returns the SecretFormatError it throws (fails the test when it throws none). */
function formatError(secretString: string): SecretFormatError {
  try {
    parseSecret(secretString);
  } catch (error) {
    if (error instanceof SecretFormatError) return error;
    throw error;
  }
  throw new Error('parseSecret accepted the secret');
}

describe('parseSecret', () => {
  it('parses a complete secret', () => {
    // Prepare
    const text = JSON.stringify(VALID);

    // Act
    const credentials = parseSecret(text);

    // Assess
    expect(credentials).toEqual(VALID);
  });

  it('parses a secret without a webhook secret, leaving the field out', () => {
    // Prepare
    const text = JSON.stringify({ ...VALID, webhookSecret: undefined });

    // Act
    const credentials = parseSecret(text);

    // Assess
    expect(credentials).toEqual({ sdkAppId: VALID.sdkAppId, identifier: VALID.identifier, secretKey: VALID.secretKey });
    expect(credentials).not.toHaveProperty('webhookSecret');
  });

  it('accepts the SDKAppID written as a string, as the console shows it', () => {
    // Prepare
    const text = JSON.stringify({ ...VALID, sdkAppId: String(VALID.sdkAppId) });

    // Act
    const credentials = parseSecret(text);

    // Assess
    expect(credentials.sdkAppId).toBe(VALID.sdkAppId);
  });

  it('refuses text that is not JSON, without echoing it', () => {
    // Prepare
    const text = `{sdkAppId: 1, secretKey: ${TEST_CREDENTIALS.secretKey}`;

    // Act
    const error = formatError(text);

    // Assess
    expect(error.name).toBe('SecretFormatError');
    expect(error.message).toBe('the credentials secret is not JSON');
    expect(error.cause).toBeUndefined();
  });

  it.each([
    ['sdkAppId', 'missing', { sdkAppId: undefined }],
    ['sdkAppId', 'not a number', { sdkAppId: 'app' }],
    ['sdkAppId', 'zero', { sdkAppId: 0 }],
    ['sdkAppId', 'fractional', { sdkAppId: 1.5 }],
    ['sdkAppId', 'negative', { sdkAppId: -1400000001 }],
    ['sdkAppId', 'a boolean', { sdkAppId: true }],
    ['sdkAppId', 'a list', { sdkAppId: [1400000001] }],
    ['sdkAppId', 'in exponent notation', { sdkAppId: '1.4e9' }],
    ['identifier', 'missing', { identifier: undefined }],
    ['identifier', 'empty', { identifier: '' }],
    ['identifier', 'longer than 32 characters', { identifier: 'a'.repeat(33) }],
    ['identifier', 'a number', { identifier: 42 }],
    ['secretKey', 'missing', { secretKey: undefined }],
    ['secretKey', 'empty', { secretKey: '' }],
    ['secretKey', 'a number', { secretKey: 12345 }],
    ['secretKey', 'blank', { secretKey: '   ' }],
    [
      'webhookSecret',
      'without the whsec_ prefix',
      { webhookSecret: TEST_CREDENTIALS.webhookSecret.slice('whsec_'.length) },
    ],
    ['webhookSecret', 'a number', { webhookSecret: 7 }],
    ['webhookSecret', 'a 1-byte key', { webhookSecret: 'whsec_eA==' }],
    ['webhookSecret', 'a 23-byte key', { webhookSecret: `whsec_${Buffer.alloc(23, 1).toString('base64')}` }],
    ['webhookSecret', 'an empty key', { webhookSecret: 'whsec_' }],
    ['webhookSecret', 'a key that is not base64', { webhookSecret: `whsec_${'!'.repeat(40)}` }],
  ])('refuses a secret whose %s is %s, naming the field', (field, _label, change) => {
    // Prepare
    const text = JSON.stringify({ ...VALID, ...change });

    // Act
    const error = formatError(text);

    // Assess
    expect(error.message).toMatch(new RegExp(`^the credentials secret is malformed: .*\\b${field}: `));
  });

  it.each([
    ['an array', JSON.stringify([VALID])],
    ['a string', JSON.stringify(TEST_CREDENTIALS.secretKey)],
    ['null', 'null'],
  ])('refuses a secret that is %s, naming the root', (_label, text) => {
    // Prepare
    const input = text;

    // Act
    const error = formatError(input);

    // Assess
    expect(error.message).toMatch(/^the credentials secret is malformed: \(root\): /);
  });

  it('accepts a webhook key of exactly 24 bytes', () => {
    // Prepare
    const text = JSON.stringify({ ...VALID, webhookSecret: `whsec_${Buffer.alloc(24, 1).toString('base64')}` });

    // Act
    const credentials = parseSecret(text);

    // Assess
    expect(credentials.webhookSecret).toBe(`whsec_${Buffer.alloc(24, 1).toString('base64')}`);
  });

  it('names every bad field at once', () => {
    // Prepare
    const text = JSON.stringify({ sdkAppId: -1, identifier: '', secretKey: '' });

    // Act
    const error = formatError(text);

    // Assess
    for (const field of ['sdkAppId', 'identifier', 'secretKey']) expect(error.message).toContain(`${field}: `);
  });

  it('never puts the secret key or the webhook secret in an error message', () => {
    // Prepare: every bad shape, each carrying the real secrets somewhere
    const texts = [
      `not json ${TEST_CREDENTIALS.secretKey}`,
      JSON.stringify({ ...VALID, sdkAppId: TEST_CREDENTIALS.secretKey }),
      JSON.stringify({ ...VALID, identifier: TEST_CREDENTIALS.secretKey }),
      JSON.stringify({ ...VALID, secretKey: { value: TEST_CREDENTIALS.secretKey } }),
      JSON.stringify({ ...VALID, webhookSecret: TEST_CREDENTIALS.webhookSecret.slice('whsec_'.length) }),
      JSON.stringify({ ...VALID, webhookSecret: [TEST_CREDENTIALS.webhookSecret] }),
      JSON.stringify(TEST_CREDENTIALS.secretKey),
    ];

    // Act
    const errors = texts.map(formatError);

    // Assess
    const keyPart = TEST_CREDENTIALS.webhookSecret.slice('whsec_'.length);
    for (const error of errors) {
      const shown = `${error.message} ${String(error.cause ?? '')}`;
      expect(shown).not.toContain(TEST_CREDENTIALS.secretKey);
      expect(shown).not.toContain(keyPart);
    }
  });
});
