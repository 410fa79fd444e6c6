import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ReplayGuard } from '../../lib/webhook/replay-guard.ts';
import { WebhookAuthenticator, WebhookAuthError, type HeaderBag } from '../../lib/webhook/webhook-authenticator.ts';
import { TEST_CREDENTIALS } from '../helpers/factories.ts';

const SECRET = TEST_CREDENTIALS.webhookSecret;
const OTHER_SECRET = `whsec_${Buffer.from('another-webhook-secret-0123456789').toString('base64')}`;
const NOW = new Date('2026-03-01T12:00:00Z');
const BODY = JSON.stringify({ UserAttrs: [{ To_Account: 'u-1', Attrs: { city: 'Shenzhen' } }] });

/** The three Standard Webhooks headers for `body`, signed with `secret` at `at`. */
function signedHeaders(body: string, options: { id?: string; at?: Date; secret?: string } = {}): Record<string, string> {
  const id = options.id ?? 'msg_2m9dJ7Xk';
  const at = options.at ?? NOW;
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(options.secret ?? SECRET).sign(id, at, body),
  };
}

/** Runs `verify` and returns the WebhookAuthError it throws (fails the test when it throws none). */
function authError(auth: WebhookAuthenticator, body: string, headers: HeaderBag, secret: string | undefined): WebhookAuthError {
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
    const headers = { 'Webhook-Id': signed['webhook-id'], 'WEBHOOK-TIMESTAMP': signed['webhook-timestamp'], 'Webhook-Signature': signed['webhook-signature'] };

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

  it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])('refuses a request without %s as missing-headers', (name) => {
    // Prepare
    const auth = new WebhookAuthenticator();
    const headers: HeaderBag = { ...signedHeaders(BODY), [name]: undefined };

    // Act
    const error = authError(auth, BODY, headers, SECRET);

    // Assess
    expect(error.reason).toBe('missing-headers');
  });

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
    expect(error.cause).toBeInstanceOf(Error);
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

  it.each([
    ['6 minutes old', -6],
    ['6 minutes in the future', 6],
  ])('refuses a timestamp %s', (_label, offset) => {
    // Prepare
    const auth = new WebhookAuthenticator();
    const headers = signedHeaders(BODY, { at: new Date(NOW.getTime() + minutes(offset)) });

    // Act
    const error = authError(auth, BODY, headers, SECRET);

    // Assess
    expect(error.reason).toBe('bad-signature');
  });

  it.each([
    ['4 minutes old', -4],
    ['4 minutes in the future', 4],
  ])('accepts a timestamp %s (inside the 5-minute tolerance)', (_label, offset) => {
    // Prepare
    const auth = new WebhookAuthenticator();
    const headers = signedHeaders(BODY, { at: new Date(NOW.getTime() + minutes(offset)) });

    // Act
    const act = () => auth.verify(BODY, headers, SECRET);

    // Assess
    expect(act).not.toThrow();
  });

  it('refuses the replay of a verified request as replayed', () => {
    // Prepare
    const auth = new WebhookAuthenticator();
    const headers = signedHeaders(BODY);
    auth.verify(BODY, headers, SECRET);

    // Act
    const error = authError(auth, BODY, headers, SECRET);

    // Assess
    expect(error.reason).toBe('replayed');
  });

  it('refuses a second, differently signed body under a verified id', () => {
    // Prepare
    const auth = new WebhookAuthenticator();
    auth.verify(BODY, signedHeaders(BODY, { id: 'msg_same' }), SECRET);
    const otherBody = JSON.stringify({ UserAttrs: [] });

    // Act
    const error = authError(auth, otherBody, signedHeaders(otherBody, { id: 'msg_same' }), SECRET);

    // Assess
    expect(error.reason).toBe('replayed');
  });

  it('does not remember an id whose signature failed: the genuine request with that id is accepted', () => {
    // Prepare
    const auth = new WebhookAuthenticator();
    const forged = signedHeaders(BODY, { id: 'msg_x', secret: OTHER_SECRET });
    expect(authError(auth, BODY, forged, SECRET).reason).toBe('bad-signature');

    // Act
    const act = () => auth.verify(BODY, signedHeaders(BODY, { id: 'msg_x' }), SECRET);

    // Assess
    expect(act).not.toThrow();
  });

  it('accepts the same id again once the replay guard has forgotten it', () => {
    // Prepare
    let now = NOW.getTime();
    const auth = new WebhookAuthenticator({ replayGuard: new ReplayGuard({ ttlMs: 1000, now: () => now }) });
    const headers = signedHeaders(BODY);
    auth.verify(BODY, headers, SECRET);

    // Act
    now += 1000;
    const act = () => auth.verify(BODY, headers, SECRET);

    // Assess
    expect(act).not.toThrow();
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
      [BODY, signedHeaders(BODY, { at: new Date(NOW.getTime() - minutes(6)) }), SECRET],
      [`${BODY} `, signedHeaders(BODY), SECRET],
      [BODY, signedHeaders(BODY), undefined],
      [BODY, signedHeaders(BODY, { id: 'msg_ok' }), SECRET],
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
      const cause = error instanceof Error && error.cause instanceof Error ? `${error.cause.message} ${error.cause.stack ?? ''}` : '';
      const shown = error instanceof Error ? `${error.message} ${error.stack ?? ''} ${cause} ${JSON.stringify(error)}` : '';
      expect(shown).not.toContain(keyPart);
    }
    expect(errors.map((e) => (e instanceof WebhookAuthError ? e.reason : 'other'))).toEqual([
      'missing-headers',
      'bad-signature',
      'bad-signature',
      'bad-signature',
      'no-secret',
      'replayed',
      'bad-signature',
    ]);
  });
});
