import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebhookAuthenticator, WebhookAuthError, type HeaderBag } from '../../lib/webhook/webhook-authenticator.ts';
import { TEST_CREDENTIALS } from '../helpers/factories.ts';

const SECRET = TEST_CREDENTIALS.webhookSecret;
const OTHER_SECRET = `whsec_${Buffer.from('another-webhook-secret-0123456789').toString('base64')}`;
const NOW = new Date('2026-03-01T12:00:00Z');
const BODY = JSON.stringify({ UserAttrs: [{ To_Account: 'u-1', Attrs: { city: 'Shenzhen' } }] });

/** The three Standard Webhooks headers for `body`, signed with `secret` at `at`. */
function signedHeaders(
  body: string,
  options: { id?: string; at?: Date; secret?: string } = {},
): Record<string, string> {
  const id = options.id ?? 'msg_2m9dJ7Xk';
  const at = options.at ?? NOW;
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(options.secret ?? SECRET).sign(id, at, body),
  };
}

/** Runs `verify` and returns the WebhookAuthError it throws (fails the test when it throws none). */
function authError(
  auth: WebhookAuthenticator,
  body: string,
  headers: HeaderBag,
  secret: string | undefined,
): WebhookAuthError {
  try {
    auth.verify(body, headers, secret);
  } catch (error) {
    if (error instanceof WebhookAuthError) return error;
    throw error;
  }
  throw new Error('verify accepted the request');
}

const minutes = (n: number): number => n * 60_000;

describe('WebhookAuthenticator', () => {
  beforeEach(() => {
    // standardwebhooks reads Date.now() for its 5-minute tolerance.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('accepts a body signed with the secret', () => {
    // Prepare
    const auth = new WebhookAuthenticator();
    const headers = signedHeaders(BODY);

    // Act
    const act = () => auth.verify(BODY, headers, SECRET);

    // Assess
    expect(act).not.toThrow();
  });

  it('matches header names case-insensitively', () => {
    // Prepare
    const auth = new WebhookAuthenticator();
    const signed = signedHeaders(BODY);
    const headers = {
      'Webhook-Id': signed['webhook-id'],
      'WEBHOOK-TIMESTAMP': signed['webhook-timestamp'],
      'Webhook-Signature': signed['webhook-signature'],
    };

    // Act
    const act = () => auth.verify(BODY, headers, SECRET);

    // Assess
    expect(act).not.toThrow();
  });

  it('accepts a header holding several signatures when one of them matches (secret rotation)', () => {
    // Prepare
    const auth = new WebhookAuthenticator();
    const signed = signedHeaders(BODY);
    const stale = signedHeaders(BODY, { secret: OTHER_SECRET })['webhook-signature'];
    const headers = { ...signed, 'webhook-signature': `${stale} ${signed['webhook-signature']}` };

    // Act
    const act = () => auth.verify(BODY, headers, SECRET);

    // Assess
    expect(act).not.toThrow();
  });

  it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])(
    'refuses a request without %s as missing-headers',
    (name) => {
      // Prepare
      const auth = new WebhookAuthenticator();
      const headers: HeaderBag = { ...signedHeaders(BODY), [name]: undefined };

      // Act
      const error = authError(auth, BODY, headers, SECRET);

      // Assess
      expect(error.reason).toBe('missing-headers');
    },
  );

  it('refuses every request when no secret is configured, as no-secret', () => {
    // Prepare
    const auth = new WebhookAuthenticator();
    const headers = signedHeaders(BODY);

    // Act
    const error = authError(auth, BODY, headers, undefined);

    // Assess
    expect(error.reason).toBe('no-secret');
  });

  it('refuses a body signed with another secret as bad-signature', () => {
    // Prepare
    const auth = new WebhookAuthenticator();
    const headers = signedHeaders(BODY, { secret: OTHER_SECRET });

    // Act
    const error = authError(auth, BODY, headers, SECRET);

    // Assess
    expect(error.reason).toBe('bad-signature');
  });

  it('refuses a body changed by one byte', () => {
    // Prepare
    const auth = new WebhookAuthenticator();
    const headers = signedHeaders(BODY);
    const tampered = BODY.replace('Shenzhen', 'Shenzhem');

    // Act
    const error = authError(auth, tampered, headers, SECRET);

    // Assess
    expect(tampered).toHaveLength(BODY.length);
    expect(error.reason).toBe('bad-signature');
  });

  it('refuses a signature moved to another id', () => {
    // Prepare
    const auth = new WebhookAuthenticator();
    const headers = { ...signedHeaders(BODY, { id: 'msg_a' }), 'webhook-id': 'msg_b' };

    // Act
    const error = authError(auth, BODY, headers, SECRET);

    // Assess
    expect(error.reason).toBe('bad-signature');
  });

  it('refuses a timestamp more than 5 minutes in the future as bad-timestamp', () => {
    // Prepare
    const auth = new WebhookAuthenticator();
    const headers = signedHeaders(BODY, { at: new Date(NOW.getTime() + minutes(6)) });

    // Act
    const error = authError(auth, BODY, headers, SECRET);

    // Assess
    expect(error.reason).toBe('bad-timestamp');
  });

  it('reports a correctly signed request over 5 minutes old as not fresh, rather than refusing it', () => {
    // Prepare
    const auth = new WebhookAuthenticator();
    const headers = signedHeaders(BODY, { id: 'msg_late', at: new Date(NOW.getTime() - minutes(6)) });

    // Act
    const verified = auth.verify(BODY, headers, SECRET);

    // Assess
    expect(verified).toEqual({ id: 'msg_late', fresh: false });
  });

  it('refuses an old request whose signature is wrong as bad-signature, not as stale', () => {
    // Prepare
    const auth = new WebhookAuthenticator();
    const headers = signedHeaders(BODY, { at: new Date(NOW.getTime() - minutes(60)), secret: OTHER_SECRET });

    // Act
    const error = authError(auth, BODY, headers, SECRET);

    // Assess
    expect(error.reason).toBe('bad-signature');
  });

  it.each([
    ['4 minutes old', -4],
    ['4 minutes in the future', 4],
  ])('accepts a timestamp %s as fresh (inside the 5-minute tolerance)', (_label, offset) => {
    // Prepare
    const auth = new WebhookAuthenticator();
    const headers = signedHeaders(BODY, { at: new Date(NOW.getTime() + minutes(offset)) });

    // Act
    const verified = auth.verify(BODY, headers, SECRET);

    // Assess
    expect(verified.fresh).toBe(true);
  });

  it('verifies a re-delivery of the same request again (re-deliveries are answered by the idempotency store)', () => {
    // Prepare
    const auth = new WebhookAuthenticator();
    const headers = signedHeaders(BODY, { id: 'msg_again' });
    auth.verify(BODY, headers, SECRET);

    // Act
    const second = auth.verify(BODY, headers, SECRET);

    // Assess
    expect(second).toEqual({ id: 'msg_again', fresh: true });
  });

  it('follows a change of secret between calls', () => {
    // Prepare
    const auth = new WebhookAuthenticator();
    auth.verify(BODY, signedHeaders(BODY, { id: 'msg_1' }), SECRET);
    const headers = signedHeaders(BODY, { id: 'msg_2', secret: OTHER_SECRET });

    // Act
    const act = () => auth.verify(BODY, headers, OTHER_SECRET);
    const old = authError(auth, BODY, signedHeaders(BODY, { id: 'msg_3' }), OTHER_SECRET);

    // Assess
    expect(act).not.toThrow();
    expect(old.reason).toBe('bad-signature');
  });

  it('refuses, as bad-signature, a secret the library cannot use', () => {
    // Prepare
    const auth = new WebhookAuthenticator();
    const headers = signedHeaders(BODY);

    // Act
    const error = authError(auth, BODY, headers, 'whsec_');

    // Assess
    expect(error.reason).toBe('bad-signature');
  });

  it('inspects the headers without the secret: the id, the timestamp window and the decoded v1 signatures', () => {
    // Prepare
    const auth = new WebhookAuthenticator();
    const headers = signedHeaders(BODY, { id: 'msg_old', at: new Date(NOW.getTime() - minutes(60)) });

    // Act
    const inspected = auth.inspect(headers);

    // Assess
    expect(inspected).toMatchObject({ id: 'msg_old', fresh: false, seconds: Math.floor(NOW.getTime() / 1000) - 3600 });
    expect(inspected.signatures).toHaveLength(1);
    expect(inspected.signatures[0]).toHaveLength(32);
  });

  it.each([
    ['webhook-id', 'msg with space', 'bad-id'],
    ['webhook-id', '', 'bad-id'],
    ['webhook-timestamp', '-1', 'bad-timestamp'],
    ['webhook-signature', 'v1,', 'bad-signature-format'],
    ['webhook-signature', 'sig', 'bad-signature-format'],
  ])('refuses a %s of %j as %s before any HMAC', (header, value, reason) => {
    // Prepare
    const auth = new WebhookAuthenticator();
    const headers = { ...signedHeaders(BODY), [header]: value };

    // Act
    const error = authError(auth, BODY, headers, SECRET);

    // Assess
    expect(error.reason).toBe(reason);
  });

  it('verifies signatures made by the standardwebhooks package with its own HMAC (node:crypto), leading zeros of the timestamp included', () => {
    // Prepare
    const auth = new WebhookAuthenticator();
    const headers = signedHeaders(BODY, { id: 'msg_zero' });
    const padded = { ...headers, 'webhook-timestamp': `00${headers['webhook-timestamp']}` };

    // Act
    const verified = auth.verify(BODY, padded, SECRET);

    // Assess
    expect(verified).toEqual({ id: 'msg_zero', fresh: true });
  });

  it('names the error and says nothing about which check failed', () => {
    // Prepare
    const auth = new WebhookAuthenticator();

    // Act
    const error = authError(auth, BODY, signedHeaders(BODY, { secret: OTHER_SECRET }), SECRET);

    // Assess
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('WebhookAuthError');
    expect(error.message).toBe('webhook authentication failed');
  });

  it('never puts the secret in an error, its cause or its stack', () => {
    // Prepare
    const auth = new WebhookAuthenticator();
    const keyPart = SECRET.slice('whsec_'.length);
    const attempts: [string, HeaderBag, string | undefined][] = [
      [BODY, { ...signedHeaders(BODY), 'webhook-id': undefined }, SECRET],
      [BODY, signedHeaders(BODY, { secret: OTHER_SECRET }), SECRET],
      [BODY, signedHeaders(BODY, { at: new Date(NOW.getTime() + minutes(6)) }), SECRET],
      [`${BODY} `, signedHeaders(BODY), SECRET],
      [BODY, signedHeaders(BODY), undefined],
      [BODY, signedHeaders(BODY, { id: 'msg_ok' }), SECRET],
      [BODY, signedHeaders(BODY), 'whsec_!!not-base64!!'],
    ];

    // Act
    const errors = attempts.flatMap(([body, headers, secret]) => {
      try {
        auth.verify(body, headers, secret);
        return [];
      } catch (error) {
        return [error];
      }
    });

    // Assess
    expect(errors).toHaveLength(attempts.length - 1);
    for (const error of errors) {
      expect(error).toBeInstanceOf(WebhookAuthError);
      const cause =
        error instanceof Error && error.cause instanceof Error
          ? `${error.cause.message} ${error.cause.stack ?? ''}`
          : '';
      const shown =
        error instanceof Error ? `${error.message} ${error.stack ?? ''} ${cause} ${JSON.stringify(error)}` : '';
      expect(shown).not.toContain(keyPart);
    }
    expect(errors.map((e) => (e instanceof WebhookAuthError ? e.reason : 'other'))).toEqual([
      'missing-headers',
      'bad-signature',
      'bad-timestamp',
      'bad-signature',
      'no-secret',
      'bad-signature',
    ]);
  });
});
