import { afterEach, describe, expect, it } from 'vitest';
import { classifyErrorCode } from '../../lib/im/classify.ts';
import { TRANSPORT_ERROR_CODES } from '../../lib/im/error-codes.ts';
import { ImTransport, MIN_TIMEOUT_MS } from '../../lib/im/transport.ts';
import type { TransportResult } from '../../lib/im/transport.ts';
import { fail, ok, startRecordingServer } from './helpers/recording-server.ts';
import type { RecordingServer, ScriptedAnswer } from './helpers/recording-server.ts';

const auth = { sdkAppId: 1400000123, identifier: 'admin', userSig: 'eJw*sig-_value' };

let server: RecordingServer | undefined;
let transport: ImTransport | undefined;

async function setup(
  script?: (index: number) => ScriptedAnswer,
  timeoutMs?: number,
): Promise<{ server: RecordingServer; transport: ImTransport }> {
  server = await startRecordingServer(script === undefined ? undefined : (_request, index) => script(index));
  transport = new ImTransport({ baseUrl: server.url, timeoutMs });
  return { server, transport };
}

afterEach(async () => {
  transport?.close();
  await server?.close();
  transport = undefined;
  server = undefined;
});

describe('ImTransport', () => {
  it('sends exactly sdkappid, identifier, usersig, random, contenttype=json and the JSON body', async () => {
    // Prepare
    const { server, transport } = await setup();

    // Act
    const result = await transport.post('all_member_push/im_get_attr_name', auth, {});

    // Assess
    const request = server.requests[0];
    expect(result.kind).toBe('answer');
    expect(request?.method).toBe('POST');
    expect(request?.pathname).toBe('/v4/all_member_push/im_get_attr_name');
    expect([...(request?.query.keys() ?? [])]).toEqual(['sdkappid', 'identifier', 'usersig', 'random', 'contenttype']);
    expect(request?.query.get('sdkappid')).toBe('1400000123');
    expect(request?.query.get('identifier')).toBe('admin');
    expect(request?.query.get('usersig')).toBe(auth.userSig);
    expect(request?.query.get('contenttype')).toBe('json');
    expect(request?.body).toEqual({});
  });

  it('sends a different uint32 random on every call, over one reused connection', async () => {
    // Prepare
    const { server, transport } = await setup();

    // Act
    for (let i = 0; i < 20; i += 1) await transport.post('all_member_push/im_get_attr_name', auth, {});

    // Assess
    const randoms = server.requests.map((r) => r.query.get('random') ?? '');
    for (const random of randoms) {
      expect(random).toMatch(/^\d+$/);
      expect(Number(random)).toBeLessThanOrEqual(4294967295);
    }
    expect(new Set(randoms).size).toBe(20);
    expect(new Set(server.requests.map((r) => r.socketId)).size).toBe(1);
    expect(server.socketCount()).toBe(1);
  });

  it('returns a 200 with ErrorCode != 0 as an answer carrying that code, and ErrorList entries', async () => {
    // Prepare
    const { transport } = await setup(() =>
      fail(90033, { ErrorList: [{ To_Account: 'u1', ErrorCode: 70107 }, { bogus: true }] }),
    );

    // Act
    const result = await transport.post('all_member_push/im_set_attr', auth, { UserAttrs: [] });

    // Assess
    expect(result).toMatchObject({
      kind: 'answer',
      body: { ActionStatus: 'FAIL', ErrorCode: 90033, ErrorList: [{ To_Account: 'u1', ErrorCode: 70107 }] },
    });
  });

  it('turns HTTP 502 into a transient failure -502', async () => {
    // Prepare
    const { transport } = await setup(() => ({ status: 502 }));

    // Act
    const result = await transport.post('all_member_push/im_set_attr', auth, {});

    // Assess
    expect(result).toMatchObject({ kind: 'failure', errorCode: -502 });
    expect(classifyErrorCode(failureCode(result))).toBe('transient');
  });

  it('turns a reset connection into a transient connection failure', async () => {
    // Prepare
    const { transport } = await setup(() => ({ reset: true }));

    // Act
    const result = await transport.post('all_member_push/im_set_attr', auth, {});

    // Assess
    expect(result).toMatchObject({ kind: 'failure', errorCode: TRANSPORT_ERROR_CODES.connection });
    expect(classifyErrorCode(failureCode(result))).toBe('transient');
  });

  it('turns a refused connection into a transient connection failure', async () => {
    // Prepare
    const { server, transport: unused } = await setup();
    unused.close();
    const url = server.url;
    await server.close();
    transport = new ImTransport({ baseUrl: url });

    // Act
    const result = await transport.post('all_member_push/im_set_attr', auth, {});

    // Assess
    expect(result).toMatchObject({ kind: 'failure', errorCode: TRANSPORT_ERROR_CODES.connection });
  });

  it('turns a 200 without an IM body into a transient invalid-response failure', async () => {
    // Prepare
    const { transport } = await setup(() => ({ body: { hello: 'world' } }));

    // Act
    const result = await transport.post('all_member_push/im_set_attr', auth, {});

    // Assess
    expect(result).toMatchObject({ kind: 'failure', errorCode: TRANSPORT_ERROR_CODES.invalidResponse });
    expect(classifyErrorCode(failureCode(result))).toBe('transient');
  });

  it('times out a server that never answers (the one slow test: 3.1 s)', async () => {
    // Prepare
    const { transport } = await setup(() => ({ hang: true }), MIN_TIMEOUT_MS + 100);
    const started = performance.now();

    // Act
    const result = await transport.post('all_member_push/im_set_attr', auth, {});

    // Assess
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ kind: 'failure', errorCode: TRANSPORT_ERROR_CODES.timeout });
    expect(classifyErrorCode(failureCode(result))).toBe('transient');
    expect(elapsed).toBeGreaterThanOrEqual(MIN_TIMEOUT_MS + 90);
    expect(JSON.stringify(result)).not.toContain(auth.userSig);
  });

  it('refuses a timeout not longer than the server-side 3 s', () => {
    // Prepare
    const make = (timeoutMs: number) => (): ImTransport =>
      new ImTransport({ baseUrl: 'http://127.0.0.1:1', timeoutMs });

    // Act / Assess
    expect(make(3000)).toThrow(RangeError);
    expect(make(1000)).toThrow(/greater than the server's 3000 ms/);
    expect(make(Number.NaN)).toThrow(RangeError);
  });

  it('keeps other fields of the answer body, and takes neither non-JSON nor a body without ErrorCode as an answer', async () => {
    // Prepare
    const answers: ScriptedAnswer[] = [
      ok({ AttrNames: { '0': 'sex' } }),
      { text: 'not json' },
      { text: '{"ActionStatus":"OK"}' },
    ];
    const { transport } = await setup((index) => answers[index] ?? ok());

    // Act
    const results: TransportResult[] = [];
    for (let i = 0; i < answers.length; i += 1)
      results.push(await transport.post('all_member_push/im_get_attr_name', auth, {}));

    // Assess
    const [withFields, notJson, noErrorCode] = results;
    expect(withFields?.kind === 'answer' ? withFields.body['AttrNames'] : undefined).toEqual({ '0': 'sex' });
    expect(notJson).toMatchObject({ kind: 'failure', errorCode: TRANSPORT_ERROR_CODES.invalidResponse });
    expect(noErrorCode).toMatchObject({ kind: 'failure', errorCode: TRANSPORT_ERROR_CODES.invalidResponse });
  });
});

function failureCode(result: TransportResult): number {
  if (result.kind !== 'failure') throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result.errorCode;
}
