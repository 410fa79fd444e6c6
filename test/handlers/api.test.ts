import { describe, expect, it, vi } from 'vitest';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { laneGroupId, laneOf } from '../../lib/core/lanes/lane-of.ts';
import { apiEvent, lambdaContext, makeUsers, parseBody, TEST_CREDENTIALS } from '../helpers/factories.ts';
import { useStack } from '../helpers/use-stack.ts';
import { PLANTED_PERSONAL } from '../setup/planted-personal-data.ts';

/** The users of lane messages, with the message group each travelled in. */
function lanedUsers(
  messages: readonly { Body?: string | undefined; Attributes?: Record<string, string> | undefined }[],
): { account: string; group: string | undefined }[] {
  return messages.flatMap((m) =>
    (JSON.parse(m.Body ?? '{}') as { UserAttrs: { To_Account: string }[] }).UserAttrs.map((u) => ({
      account: u.To_Account,
      group: m.Attributes?.MessageGroupId,
    })),
  );
}

describe('api handler (API Gateway v2 → lanes on fauxqs, early write to the IM emulator, idempotency on dynalite)', () => {
  const stack = useStack();

  it('writes a small webhook into its lanes, applies it early in full and answers 200 with the counts', async () => {
    // Prepare
    const { api } = stack.copy();
    const users = makeUsers(60, 'small');
    // Act
    const result = await api(apiEvent(JSON.stringify({ UserAttrs: users })), lambdaContext());
    // Assess
    expect(result.statusCode).toBe(200);
    expect(parseBody(result)).toMatchObject({
      ActionStatus: 'OK',
      ErrorCode: 0,
      Received: 60,
      Accepted: 60,
      Applied: 60,
      Queued: 0,
      Rejected: 0,
    });
    expect(stack.emulator.attrs.get('small-59')).toEqual(users[59]?.Attrs);
    const laned = lanedUsers(await stack.takeAll(stack.lanesUrl));
    expect(laned.map((l) => l.account).sort()).toEqual(users.map((u) => u.To_Account).sort());
  });

  it('answers 202 once every user of a large webhook is in its lane, each user in the lane of its account', async () => {
    // Prepare
    const { services, api } = stack.copy();
    const users = makeUsers(5_000, 'large');
    // Act
    const result = await api(apiEvent(JSON.stringify({ UserAttrs: users })), lambdaContext());
    // Assess
    const body = parseBody(result);
    expect(result.statusCode).toBe(202);
    expect(body).toMatchObject({ Received: 5_000, Accepted: 5_000, Rejected: 0 });
    expect(Number(body.Applied) + Number(body.Queued)).toBe(5_000);
    const laned = lanedUsers(await stack.takeAll(stack.lanesUrl));
    expect(laned).toHaveLength(5_000);
    for (const { account, group } of laned)
      expect(group).toBe(laneGroupId(laneOf(account, services.config.lanes.count)));
  });

  it('rejects bad users alone, naming field and rule; a null value removes the attribute', async () => {
    // Prepare
    const { api } = stack.copy();
    await api(
      apiEvent(JSON.stringify({ UserAttrs: [{ To_Account: 'good-1', Attrs: { city: 'Paris', tier: 'gold' } }] })),
      lambdaContext(),
    );
    const body = {
      UserAttrs: [
        { To_Account: 'good-1', Attrs: { tier: null } },
        { To_Account: 'bad-1', Attrs: { planet: 'Mars' } },
        { To_Account: 'bad-2', Attrs: { city: '北'.repeat(17) } },
      ],
    };
    // Act
    const result = await api(apiEvent(JSON.stringify(body)), lambdaContext());
    // Assess
    const answer = parseBody(result);
    expect(result.statusCode).toBe(200);
    expect(answer).toMatchObject({ ActionStatus: 'FAIL', Accepted: 1, Applied: 1, Rejected: 2 });
    expect(answer.RejectedUsers).toEqual([
      expect.objectContaining({
        To_Account: 'bad-1',
        Path: 'UserAttrs[1].Attrs.planet',
        Rule: 'attr-name-unregistered',
      }),
      expect.objectContaining({ To_Account: 'bad-2', Path: 'UserAttrs[2].Attrs.city', Rule: 'value-max-50-bytes' }),
    ]);
    expect(stack.emulator.attrs.get('good-1')).toEqual({ city: 'Paris' });
    expect(stack.emulator.attrs.has('bad-1')).toBe(false);
  });

  it.each([
    ['no signature', { sign: false as const }],
    ['a wrong secret', { sign: 'whsec_d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA==' }],
    ['a stale timestamp and no completed delivery', { signedAt: new Date(Date.now() - 6 * 60_000) }],
  ])('refuses a webhook with %s with a 401 that reveals nothing, and queues nothing', async (_name, options) => {
    // Prepare
    const { api } = stack.copy();
    // Act
    const result = await api(apiEvent(JSON.stringify({ UserAttrs: makeUsers(1, 'unauth') }), options), lambdaContext());
    // Assess
    expect(result.statusCode).toBe(401);
    expect(parseBody(result)).toMatchObject({ ActionStatus: 'FAIL', ErrorInfo: 'unauthorized' });
    expect(stack.emulator.attrs.has('unauth-0')).toBe(false);
    expect(await stack.takeAll(stack.lanesUrl)).toEqual([]);
  });

  it('answers the same signed webhook twice with the same 2xx, and applies it once', async () => {
    // Prepare
    const { api } = stack.copy();
    const event = apiEvent(JSON.stringify({ UserAttrs: makeUsers(30, 'twice') }));
    // Act
    const first = await api(event, lambdaContext());
    const callsAfterFirst = stack.emulator.counters.calls;
    const second = await api(event, lambdaContext());
    // Assess
    expect(first.statusCode).toBe(200);
    expect(second).toEqual(first);
    expect(stack.emulator.counters.calls).toBe(callsAfterFirst);
    expect(lanedUsers(await stack.takeAll(stack.lanesUrl))).toHaveLength(30);
  });

  it('shares the idempotency store between two API copies', async () => {
    // Prepare
    const one = stack.copy();
    const two = stack.copy();
    const event = apiEvent(JSON.stringify({ UserAttrs: makeUsers(10, 'shared') }));
    // Act
    const first = await one.api(event, lambdaContext());
    const callsAfterFirst = stack.emulator.counters.calls;
    const second = await two.api(event, lambdaContext());
    // Assess
    expect(second).toEqual(first);
    expect(stack.emulator.counters.calls).toBe(callsAfterFirst);
  });

  it('answers a late re-send (timestamp over 5 minutes old, valid signature, same body) of a completed webhook from the store', async () => {
    // Prepare
    const { api } = stack.copy();
    const payload = JSON.stringify({ UserAttrs: makeUsers(5, 'late') });
    const first = await api(apiEvent(payload, { webhookId: 'msg_late_1' }), lambdaContext());
    // Act
    const late = await api(
      apiEvent(payload, { webhookId: 'msg_late_1', signedAt: new Date(Date.now() - 60 * 60_000) }),
      lambdaContext(),
    );
    const otherBody = await api(
      apiEvent(JSON.stringify({ UserAttrs: makeUsers(6, 'late') }), {
        webhookId: 'msg_late_1',
        signedAt: new Date(Date.now() - 60 * 60_000),
      }),
      lambdaContext(),
    );
    // Assess
    expect(first.statusCode).toBe(200);
    expect(late).toEqual(first);
    expect(otherBody.statusCode).toBe(401);
  });

  it('processes a re-send after a 503 (the 5xx answer is not stored)', async () => {
    // Prepare: a copy whose lanes queue does not exist answers 503; the re-send reaches a healthy copy.
    const broken = stack.copy({ LANES_QUEUE_URL: `${stack.lanesUrl.replace(/[^/]+$/, '')}missing-lanes.fifo` });
    const healthy = stack.copy();
    const event = apiEvent(JSON.stringify({ UserAttrs: makeUsers(8, 'after503') }));
    // Act
    const failed = await broken.api(event, lambdaContext());
    const retried = await healthy.api(event, lambdaContext());
    // Assess
    expect(failed.statusCode).toBe(503);
    expect(parseBody(failed)).toMatchObject({ ErrorCode: 1503 });
    expect(retried.statusCode).toBe(200);
    expect(stack.emulator.attrs.has('after503-7')).toBe(true);
  });

  it('answers 503 and applies nothing when the idempotency table cannot be reached', async () => {
    // Prepare
    const { api } = stack.copy({ IDEMPOTENCY_TABLE: 'no-such-table' });
    // Act
    const result = await api(apiEvent(JSON.stringify({ UserAttrs: makeUsers(4, 'nostore') })), lambdaContext());
    // Assess
    expect(result.statusCode).toBe(503);
    expect(result.headers).toMatchObject({ 'retry-after': '5' });
    expect(stack.emulator.attrs.has('nostore-0')).toBe(false);
    expect(await stack.takeAll(stack.lanesUrl)).toEqual([]);
  });

  it('answers 409 with Retry-After to a duplicate that arrives while the first delivery is in progress', async () => {
    // Prepare: IM answers slowly, so the first delivery is still in its early write.
    stack.emulator.setFaults({ latencyMs: [1_500, 1_500] });
    const { api } = stack.copy();
    const event = apiEvent(JSON.stringify({ UserAttrs: makeUsers(3, 'inflight') }));
    // Act
    const first = api(event, lambdaContext());
    await new Promise((r) => setTimeout(r, 500));
    const duplicate = await api(event, lambdaContext());
    // Assess
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.headers).toMatchObject({ 'retry-after': '5' });
    expect((await first).statusCode).toBe(200);
  });

  it('refuses the same webhook-id with another body (422 webhook-id-reused)', async () => {
    // Prepare
    const { api } = stack.copy();
    await api(
      apiEvent(JSON.stringify({ UserAttrs: makeUsers(2, 'reuse') }), { webhookId: 'msg_reused' }),
      lambdaContext(),
    );
    // Act
    const result = await api(
      apiEvent(JSON.stringify({ UserAttrs: makeUsers(3, 'reuse') }), { webhookId: 'msg_reused' }),
      lambdaContext(),
    );
    // Assess
    expect(result.statusCode).toBe(422);
    expect(parseBody(result)).toMatchObject({ ErrorCode: 1422, Rule: 'webhook-id-reused' });
  });

  it('answers 413 over the body limit, 415 for other media types and 400 for malformed JSON without quoting the body', async () => {
    // Prepare
    const { api } = stack.copy({ MAX_BODY_BYTES: '2048' });
    const big = JSON.stringify({ UserAttrs: makeUsers(100, 'big') });
    // Act
    const tooLarge = await api(apiEvent(big), lambdaContext());
    const notJson = await api(
      apiEvent('UserAttrs=1', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      lambdaContext(),
    );
    const malformed = await api(apiEvent('{"UserAttrs":[{"To_Account":"secret-person"', {}), lambdaContext());
    const wrongShape = await api(apiEvent('{"Users":[]}', {}), lambdaContext());
    // Assess
    expect(tooLarge.statusCode).toBe(413);
    expect(parseBody(tooLarge)).toMatchObject({ Rule: 'body-max-bytes' });
    expect(notJson.statusCode).toBe(415);
    expect(malformed.statusCode).toBe(400);
    expect(parseBody(malformed)).toMatchObject({ Path: 'body', Rule: 'body-must-be-json' });
    expect(malformed.body).not.toContain('secret-person');
    expect(wrongShape.statusCode).toBe(400);
    expect(parseBody(wrongShape)).toMatchObject({ Rule: 'user-attrs-must-be-array' });
  });

  it('never puts an attribute value or a piece of the body in an answer (the suite-wide scan checks every log line for them)', async () => {
    // Prepare
    const { api } = stack.copy();
    const { attrValue, longValue, bodyFragment } = PLANTED_PERSONAL;
    const users = [
      { To_Account: 'pii-1', Attrs: { city: attrValue } },
      { To_Account: 'pii-2', Attrs: { city: longValue } },
      { To_Account: 'pii-3', Attrs: { planet: attrValue } },
    ];
    // Act
    const mixed = await api(apiEvent(JSON.stringify({ UserAttrs: users })), lambdaContext());
    const malformed = await api(
      apiEvent(`{"UserAttrs":[{"To_Account":"pii-4","Attrs":{"city":${bodyFragment}}}]}`),
      lambdaContext(),
    );
    // Assess
    const answers = JSON.stringify([mixed, malformed]);
    expect(mixed.statusCode).toBe(200);
    expect(parseBody(mixed)).toMatchObject({ Accepted: 1, Rejected: 2 });
    expect((parseBody(mixed).RejectedUsers as { To_Account: string }[]).map((r) => r.To_Account)).toEqual([
      'pii-2',
      'pii-3',
    ]);
    expect(malformed.statusCode).toBe(400);
    expect(answers).not.toContain(attrValue);
    expect(answers).not.toContain(bodyFragment);
    expect(stack.emulator.attrs.get('pii-1')).toEqual({ city: attrValue });
  });

  it('accepts unsigned webhooks when WEBHOOK_AUTH=none, keyed by the Idempotency-Key header when sent', async () => {
    // Prepare
    const { api } = stack.copy({ WEBHOOK_AUTH: 'none' });
    const event = apiEvent(JSON.stringify({ UserAttrs: makeUsers(3, 'iam') }), {
      sign: false,
      iamCaller: true,
      headers: { 'idempotency-key': 'order-42' },
    });
    // Act
    const first = await api(event, lambdaContext());
    const callsAfterFirst = stack.emulator.counters.calls;
    const again = await api(event, lambdaContext());
    // Two requests without a key are distinct even when the platform repeats a request id (serverless-offline does).
    const plain = (prefix: string) => {
      const e = apiEvent(JSON.stringify({ UserAttrs: makeUsers(2, prefix) }), { sign: false, iamCaller: true });
      return { ...e, requestContext: { ...e.requestContext, requestId: 'same-request-id' } };
    };
    const unkeyed = await api(plain('iam-plain'), lambdaContext());
    const unkeyed2 = await api(plain('iam-plain2'), lambdaContext());
    // Assess
    expect(first.statusCode).toBe(200);
    expect(again).toEqual(first);
    expect(stack.emulator.counters.calls).toBe(callsAfterFirst + 2);
    expect(unkeyed.statusCode).toBe(200);
    expect(unkeyed2.statusCode).toBe(200);
    expect(stack.emulator.attrs.has('iam-2')).toBe(true);
    const laned = lanedUsers(await stack.takeAll(stack.lanesUrl)).map((l) => l.account);
    expect(laned).toEqual(expect.arrayContaining(['iam-plain-0', 'iam-plain-1', 'iam-plain2-0', 'iam-plain2-1']));
  });

  it('refuses with 401 an unsigned request that reached WEBHOOK_AUTH=none without passing an IAM authorizer, and queues nothing', async () => {
    // Prepare: the parameter was changed but the route has no aws_iam authorization.
    const { api } = stack.copy({ WEBHOOK_AUTH: 'none' });
    const event = apiEvent(JSON.stringify({ UserAttrs: makeUsers(2, 'open') }), { sign: false });
    // Act
    const result = await api(event, lambdaContext());
    // Assess
    expect(result.statusCode).toBe(401);
    expect(parseBody(result)).toMatchObject({ ErrorCode: 1401, ErrorInfo: 'unauthorized' });
    expect(stack.emulator.attrs.has('open-0')).toBe(false);
    expect(await stack.takeAll(stack.lanesUrl)).toEqual([]);
  });

  it('fails the first request on a weak webhook secret with a 500 and a log line naming the field, never the value', async () => {
    // Prepare: a 1-byte key, which a signature search would break.
    const weak = 'whsec_eA==';
    stack.secrets
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ ...TEST_CREDENTIALS, webhookSecret: weak }) });
    const { services, api } = stack.copy();
    const errors = vi.spyOn(services.logger, 'error');
    // Act
    let result: Awaited<ReturnType<typeof api>>;
    try {
      result = await api(
        apiEvent(JSON.stringify({ UserAttrs: makeUsers(1, 'weak') }), { sign: weak }),
        lambdaContext(),
      );
    } finally {
      stack.secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(TEST_CREDENTIALS) });
    }
    // Assess
    const logged = JSON.stringify(errors.mock.calls);
    expect(result.statusCode).toBe(500);
    expect(parseBody(result)).toMatchObject({ ErrorInfo: 'internal error' });
    expect(errors).toHaveBeenCalledTimes(1);
    expect(logged).toContain('SecretFormatError');
    expect(logged).toContain('webhookSecret: must be whsec_ followed by the base64 of at least 24 bytes');
    expect(logged).not.toContain('eA==');
    expect(stack.emulator.attrs.has('weak-0')).toBe(false);
  });

  it('reads the credentials from Secrets Manager once while the cache is fresh', async () => {
    // Prepare
    stack.secrets.resetHistory();
    const { api } = stack.copy();
    // Act
    for (let i = 0; i < 5; i++)
      await api(apiEvent(JSON.stringify({ UserAttrs: makeUsers(2, `cache${i}`) })), lambdaContext());
    // Assess
    expect(stack.secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(stack.secrets.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: 'tim-attr-gateway/test',
    });
    expect(TEST_CREDENTIALS.sdkAppId).toBeGreaterThan(0);
  });
});
