/**
 * One copy of the API function in its own process, for the stream benchmark: it handles one request at a time,
 * as a Lambda copy does. The parent sends `{ kind: 'request', id, body }`; the copy signs it (outside the handler's
 * time), runs the real handler on a real API Gateway event, and answers `{ id, status, answeredAt, applied }`.
 */
import { apiEvent, lambdaContext } from '../../test/helpers/factories.ts';

process.env['FUNCTION_ROLE'] = 'api';
const { handler } = await import('../../handlers/api.ts');
const secret = process.env['WEBHOOK_SECRET'] ?? '';
const epochMs = (): number => performance.timeOrigin + performance.now();

interface Request {
  readonly kind: 'request';
  readonly id: number;
  readonly body: string;
}

process.on('message', (message: Request) => {
  void (async () => {
    const event = apiEvent(message.body, { sign: secret });
    const result = await handler(event, lambdaContext(29_000, 'tim-attr-gateway-bench-api'));
    const answer = JSON.parse(result.body ?? '{}') as { Applied?: number };
    process.send?.({
      id: message.id,
      status: result.statusCode ?? 0,
      answeredAt: epochMs(),
      applied: answer.Applied ?? 0,
    });
  })();
});
process.send?.({ ready: true });
