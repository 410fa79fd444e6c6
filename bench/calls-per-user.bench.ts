/**
 * IM calls per user through the whole service: 5 concurrent signed webhooks of 20,000 distinct users each,
 * through 5 API copies (the real handler), into the lanes (fauxqs FIFO) and out through 5 worker copies (the
 * real handler, one lanes poller each, as the event source mapping runs them) against the IM emulator at
 * its real 100 calls/s, until the lanes are drained. Each lane message of a webhook holds ~1,000 users, so
 * every lane batch packs calls across records and the only waste is each batch's last, partly filled call
 * and the API's early writes (whose users the lanes write again).
 * Target: ≤ 1.02 im_set_attr calls per 100 applied users, every user applied with its value, no dead letter.
 * Wall time and users/s are printed for information (they depend on the machine, never fail the run).
 *
 * Run: npx node bench/calls-per-user.bench.ts
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { UserAttr } from '../lib/core/rules/types.ts';
import { apiEvent, lambdaContext, makeUsers } from '../test/helpers/factories.ts';
import { startStack } from '../test/helpers/stack.ts';

const WEBHOOKS = 5;
const USERS_EACH = 20_000;
const WORKER_COPIES = 5;
const USERS = WEBHOOKS * USERS_EACH;
const IDEAL_CALLS = USERS / 100;
const TARGET_CALLS_PER_100 = 1.02;
const RATE_LIMITED = 60007;
const DRAIN_TIMEOUT_MS = 600_000;

// The env of the copies: the deployed fleet budget for the copies this bench runs side by side (a copy handles
// one webhook at a time, so 5 concurrent webhooks need 5 API copies); floor and margin cover the 5 worker copies.
const FLEET = {
  IM_RATE_LIMIT: '100',
  API_MAX_CONCURRENCY: String(WEBHOOKS),
  WORKER_MAX_CONCURRENCY: String(WORKER_COPIES),
  WORKER_RESERVED_CONCURRENCY: String(WORKER_COPIES),
  LOG_LEVEL: 'WARN',
};
// EMF lines of every invocation would flood stdout; the figures come from the emulator.
process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';

const stack = await startStack({ env: FLEET, emulatorRateLimit: 100 });
try {
  // One startWorkers per copy: each call builds its own worker copy, with its floor, drawing on the shared grid.
  const workers = Array.from({ length: WORKER_COPIES }, () => stack.startWorkers({ concurrency: 1 }));
  const webhooks: UserAttr[][] = Array.from({ length: WEBHOOKS }, (_, w) => makeUsers(USERS_EACH, `cpu${w}`));
  // The API copies' own calls (the early writes), counted at the writer they hand the use case.
  let earlyCalls = 0;
  const sends = webhooks.map((users) => {
    const { services, api } = stack.copy({}, 'api');
    const setAttr = services.im.setAttr.bind(services.im);
    services.im.setAttr = (...args) => {
      earlyCalls++;
      return setAttr(...args);
    };
    const event = apiEvent(JSON.stringify({ UserAttrs: users }));
    return () => api(event, lambdaContext());
  });

  const started = performance.now();
  const answers: APIGatewayProxyStructuredResultV2[] = await Promise.all(sends.map((send) => send()));
  const answeredMs = performance.now() - started;
  await stack.drained(DRAIN_TIMEOUT_MS);
  const wallMs = performance.now() - started;
  await Promise.all(workers.map((w) => w.stop()));

  const c = stack.emulator.counters;
  const calls = c.callsByCommand.get('im_set_attr') ?? 0;
  const rateLimited = c.rejectedByCode.get(RATE_LIMITED) ?? 0;
  let applied = 0;
  let wrong = 0;
  for (const users of webhooks) {
    for (const u of users) {
      const stored = stack.emulator.attrs.get(u.To_Account);
      if (stored === undefined) continue;
      if (JSON.stringify(stored) === JSON.stringify(u.Attrs)) applied++;
      else wrong++;
    }
  }
  const missing = USERS - applied - wrong;
  const deadLetters = (await stack.takeAll(stack.dlqUrl)).length;
  const statuses = answers.map((a) => a.statusCode);
  const earlyApplied = answers.reduce(
    (n, a) => n + Number((JSON.parse(a.body ?? '{}') as { Applied?: number }).Applied ?? 0),
    0,
  );
  const per100 = applied === 0 ? Number.POSITIVE_INFINITY : (calls * 100) / applied;

  console.log(
    `${WEBHOOKS} concurrent signed webhooks × ${USERS_EACH.toLocaleString('en')} distinct users; ${WEBHOOKS} API copies, ${WORKER_COPIES} worker copies; emulator at 100 calls/s`,
  );
  console.log(
    `answers             ${statuses.join(', ')} in ${(answeredMs / 1000).toFixed(2)} s (every user in its lane)`,
  );
  console.log(
    `im_set_attr calls   ${calls.toLocaleString('en')} (ideal ${IDEAL_CALLS.toLocaleString('en')}); early writes ${earlyCalls} calls, ${earlyApplied} users`,
  );
  console.log(
    `applied users       ${applied.toLocaleString('en')} of ${USERS.toLocaleString('en')}; missing ${missing}, wrong ${wrong}, dead letters ${deadLetters}`,
  );
  console.log(
    `calls per 100 users ${per100.toFixed(4)} ${per100 <= TARGET_CALLS_PER_100 ? 'ok' : 'OVER'} (target ≤ ${TARGET_CALLS_PER_100}, ideal 1)`,
  );
  console.log(`rate-limit answers  ${rateLimited} (max calls in any 1 s: ${c.maxCallsInAnyWindow})`);
  console.log(
    `wall time           ${(wallMs / 1000).toFixed(2)} s to drained, ${Math.round(USERS / (wallMs / 1000)).toLocaleString('en')} users/s (information only)`,
  );
  const ok =
    per100 <= TARGET_CALLS_PER_100 &&
    missing === 0 &&
    wrong === 0 &&
    deadLetters === 0 &&
    statuses.every((s) => s === 200 || s === 202);
  if (!ok) process.exitCode = 1;
} finally {
  await stack.close();
}
