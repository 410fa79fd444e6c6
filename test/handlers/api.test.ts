import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { apiEvent, lambdaContext, makeUsers, parseBody, TEST_CREDENTIALS } from '../helpers/factories.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

describe('api handler (API Gateway v2 → IM emulator, overflow to fauxqs)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack.close();
  });

  it('applies a small webhook at once and answers 200 with IM envelope and counts', async () => {
    // Prepare
    const { api } = stack.copy();
    const users = makeUsers(150, 'small');
    // Act
    const result = await api(apiEvent(JSON.stringify({ UserAttrs: users })), lambdaContext());
    // Assess
    const body = parseBody(result);
    expect(result.statusCode).toBe(200);
    expect(body).toMatchObject({ ActionStatus: 'OK', ErrorCode: 0, Received: 150, Applied: 150, Queued: 0, Rejected: 0 });
    expect(stack.emulator.attrs.get('small-149')).toEqual(users[149]?.Attrs);
  });

  it('spills what exceeds the inline budget to the overflow queue and answers 202', async () => {
    // Prepare
    const { api } = stack.copy({ API_INLINE_CALLS: '2' });
    const users = makeUsers(1050, 'spill');
    // Act
    const result = await api(apiEvent(JSON.stringify({ UserAttrs: users })), lambdaContext());
    // Assess
    const body = parseBody(result);
    expect(result.statusCode).toBe(202);
    expect(body).toMatchObject({ Received: 1050, Applied: 200, Queued: 850, Rejected: 0 });
    const queued = await stack.takeAll(stack.overflowUrl);
    expect(queued).toHaveLength(9);
    const queuedUsers = queued.flatMap((m) => (JSON.parse(m.Body ?? '{}') as { UserAttrs: { To_Account: string }[] }).UserAttrs.map((u) => u.To_Account));
    expect(new Set(queuedUsers)).toEqual(new Set(users.slice(200).map((u) => u.To_Account)));
    expect(queued[0]?.MessageAttributes?.requestId?.StringValue).toBe(body.RequestId);
  });

  it('rejects bad users alone, naming field and rule, while good users are applied', async () => {
    // Prepare
    const { api } = stack.copy();
    const body = { UserAttrs: [{ To_Account: 'good-1', Attrs: { city: 'Paris' } }, { To_Account: 'bad-1', Attrs: { planet: 'Mars' } }, { To_Account: 'bad-2', Attrs: { city: '北'.repeat(17) } }] };
    // Act
    const result = await api(apiEvent(JSON.stringify(body)), lambdaContext());
    // Assess
    const answer = parseBody(result);
    expect(result.statusCode).toBe(200);
    expect(answer).toMatchObject({ ActionStatus: 'FAIL', Applied: 1, Rejected: 2 });
    expect(answer.RejectedUsers).toEqual([
      expect.objectContaining({ To_Account: 'bad-1', Path: 'UserAttrs[1].Attrs.planet', Rule: 'attr-name-unregistered' }),
      expect.objectContaining({ To_Account: 'bad-2', Path: 'UserAttrs[2].Attrs.city', Rule: 'value-max-50-bytes' }),
    ]);
    expect(stack.emulator.attrs.get('good-1')).toEqual({ city: 'Paris' });
    expect(stack.emulator.attrs.has('bad-1')).toBe(false);
  });

  it.each([
    ['no signature', { sign: false as const }],
    ['a wrong secret', { sign: 'whsec_d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA==' }],
    ['a stale timestamp', { signedAt: new Date(Date.now() - 6 * 60_000) }],
  ])('refuses a webhook with %s with a 401 that reveals nothing', async (_name, options) => {
    // Prepare
    const { api } = stack.copy();
    // Act
    const result = await api(apiEvent(JSON.stringify({ UserAttrs: makeUsers(1, 'unauth') }), options), lambdaContext());
    // Assess
    expect(result.statusCode).toBe(401);
    expect(parseBody(result)).toMatchObject({ ActionStatus: 'FAIL', ErrorInfo: 'unauthorized' });
    expect(stack.emulator.attrs.has('unauth-0')).toBe(false);
  });

  it('refuses a replayed webhook', async () => {
    // Prepare
    const { api } = stack.copy();
    const event = apiEvent(JSON.stringify({ UserAttrs: makeUsers(1, 'replay') }));
    // Act
    const first = await api(event, lambdaContext());
    const second = await api(event, lambdaContext());
    // Assess
    expect(first.statusCode).toBe(200);
    expect(second.statusCode).toBe(401);
  });

  it('answers 413 over the body limit, 415 for other media types and 400 for malformed JSON', async () => {
    // Prepare
    const { api } = stack.copy({ MAX_BODY_BYTES: '2048' });
    const big = JSON.stringify({ UserAttrs: makeUsers(100, 'big') });
    // Act
    const tooLarge = await api(apiEvent(big), lambdaContext());
    const notJson = await api(apiEvent('UserAttrs=1', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }), lambdaContext());
    const malformed = await api(apiEvent('{"UserAttrs":[', {}), lambdaContext());
    const wrongShape = await api(apiEvent('{"Users":[]}', {}), lambdaContext());
    // Assess
    expect(tooLarge.statusCode).toBe(413);
    expect(parseBody(tooLarge)).toMatchObject({ Rule: 'body-max-bytes' });
    expect(notJson.statusCode).toBe(415);
    expect(malformed.statusCode).toBe(400);
    expect(parseBody(malformed)).toMatchObject({ Path: 'body', Rule: 'body-must-be-json' });
    expect(wrongShape.statusCode).toBe(400);
    expect(parseBody(wrongShape)).toMatchObject({ Rule: 'user-attrs-must-be-array' });
  });

  it('accepts unsigned webhooks when WEBHOOK_AUTH=none (API Gateway IAM auth in front)', async () => {
    // Prepare
    const { api } = stack.copy({ WEBHOOK_AUTH: 'none' });
    // Act
    const result = await api(apiEvent(JSON.stringify({ UserAttrs: makeUsers(3, 'iam') }), { sign: false }), lambdaContext());
    // Assess
    expect(result.statusCode).toBe(200);
    expect(stack.emulator.attrs.has('iam-2')).toBe(true);
  });

  it('reads the credentials from Secrets Manager once while the cache is fresh', async () => {
    // Prepare
    stack.secrets.resetHistory();
    const { api } = stack.copy();
    // Act
    for (let i = 0; i < 5; i++) await api(apiEvent(JSON.stringify({ UserAttrs: makeUsers(2, `cache${i}`) })), lambdaContext());
    // Assess
    expect(stack.secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(stack.secrets.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({ SecretId: 'tim-attr-gateway/test' });
    expect(TEST_CREDENTIALS.sdkAppId).toBeGreaterThan(0);
  });
});
