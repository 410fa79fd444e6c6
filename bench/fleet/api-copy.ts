/**
 * One copy of the API function in its own process, for the fleet benchmark: on a message from the parent it
 * handles a burst of signed webhooks, one at a time as a Lambda copy does, and reports the answers' counts.
 */
import { apiEvent, lambdaContext, makeUsers } from '../../test/helpers/factories.ts';

process.env['FUNCTION_ROLE'] = 'api';
const { handler } = await import('../../handlers/api.ts');
const secret = process.env['WEBHOOK_SECRET'] ?? '';

interface Burst {
  readonly webhooks: number;
  readonly usersEach: number;
  readonly prefix: string;
}

process.on('message', (burst: Burst) => {
  void (async () => {
    let applied = 0;
    let queued = 0;
    let failed = 0;
    for (let i = 0; i < burst.webhooks; i++) {
      const users = makeUsers(burst.usersEach, `${burst.prefix}-${i}`);
      const result = await handler(apiEvent(JSON.stringify({ UserAttrs: users }), { sign: secret }), lambdaContext(29_000, 'tim-attr-gateway-bench-api'));
      const body = JSON.parse(result.body ?? '{}') as { Applied?: number; Queued?: number };
      if (result.statusCode === 200 || result.statusCode === 202) {
        applied += body.Applied ?? 0;
        queued += body.Queued ?? 0;
      } else failed++;
    }
    process.send?.({ applied, queued, failed });
  })();
});
process.send?.({ ready: true });
