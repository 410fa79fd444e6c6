/**
 * One copy of the API function in its own process, for the burst and fleet benchmarks. On `prepare` it builds
 * and signs a burst of webhooks (outside the measured time); on `go` it handles them one at a time, as a
 * Lambda copy does, and reports the answers' counts and when each was answered (epoch ms).
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { apiEvent, lambdaContext, makeUsers } from '../../test/helpers/factories.ts';
import type { ApiBurst, ApiBurstResult } from '../support/local-fleet.ts';

process.env['FUNCTION_ROLE'] = 'api';
const { handler } = await import('../../handlers/api.ts');
const secret = process.env['WEBHOOK_SECRET'] ?? '';
const epochMs = (): number => performance.timeOrigin + performance.now();

type Message = ({ readonly kind: 'prepare' } & ApiBurst) | { readonly kind: 'go' };

let prepared: APIGatewayProxyEventV2[] = [];

async function send(): Promise<ApiBurstResult> {
  let applied = 0;
  let queued = 0;
  let failed = 0;
  const answeredAt: number[] = [];
  for (const event of prepared) {
    const result = await handler(event, lambdaContext(29_000, 'tim-attr-gateway-bench-api'));
    answeredAt.push(epochMs());
    const body = JSON.parse(result.body ?? '{}') as { Applied?: number; Queued?: number };
    if (result.statusCode === 200 || result.statusCode === 202) {
      applied += body.Applied ?? 0;
      queued += body.Queued ?? 0;
    } else failed++;
  }
  return { applied, queued, failed, answeredAt };
}

process.on('message', (message: Message) => {
  if (message.kind === 'prepare') {
    prepared = Array.from({ length: message.webhooks }, (_, i) => {
      const users = makeUsers(message.usersEach, `${message.prefix}-${i}`);
      return message.tags === true
        ? apiEvent(
            JSON.stringify({
              UserTags: users.map((u, k) => ({ To_Account: u.To_Account, Add: ['vip', `cohort-${k % 7}`] })),
            }),
            { sign: secret, path: '/v1/user-tags' },
          )
        : apiEvent(JSON.stringify({ UserAttrs: users }), { sign: secret });
    });
    process.send?.({ prepared: true });
    return;
  }
  void send().then((result) => process.send?.(result));
});
process.send?.({ ready: true });
