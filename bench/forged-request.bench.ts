/**
 * What a forged webhook of the largest size that reaches the function costs the API: the real handler
 * (middy, config, the cached secret, logging at ERROR so the terminal is not what is measured) refusing
 * requests whose body is as large as Lambda's 6 MB event allows once JSON-escaped, each kind of forgery
 * apart. No queue, table or IM is reached: every one of them is refused before that.
 * Prints ms per request (median and mean). Not a test.
 *
 * Run: npx node bench/forged-request.bench.ts
 */
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../lib/config/config.ts';
import { createApiHandler } from '../lib/service/lambda-handlers.ts';
import { createApiServices } from '../lib/service/api-services.ts';
import { apiEvent, lambdaContext, makeUsers, TEST_CREDENTIALS } from '../test/helpers/factories.ts';
import { median } from './support/stats.ts';

const WARM_UP = 3;
const REQUESTS = 30;
/** The body grows until its event, JSON-serialized, is this large: just under what reaches the function. */
const EVENT_BYTES = 5_990_000;

process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
const config = loadConfig({
  TIM_SDKAPPID: String(TEST_CREDENTIALS.sdkAppId),
  TIM_IDENTIFIER: TEST_CREDENTIALS.identifier,
  TIM_SECRET_KEY: TEST_CREDENTIALS.secretKey,
  WEBHOOK_SECRET: TEST_CREDENTIALS.webhookSecret,
  IM_BASE_URL: 'http://127.0.0.1:9',
  ATTR_NAMES: 'city,tier',
  LOG_LEVEL: 'ERROR',
});
const api = createApiHandler(createApiServices(config));

/** A `{"UserAttrs":[...]}` body whose event serializes to about EVENT_BYTES. */
function maxBody(): string {
  const users = makeUsers(100_000, 'forged');
  let body = JSON.stringify({ UserAttrs: users });
  const overhead = Buffer.byteLength(JSON.stringify(apiEvent(''))) + 2_000;
  while (Buffer.byteLength(JSON.stringify(body)) + overhead > EVENT_BYTES) {
    users.length = Math.floor(users.length * 0.99);
    body = JSON.stringify({ UserAttrs: users });
  }
  return body;
}

const body = maxBody();
const now = Math.floor(Date.now() / 1000);
const bogus = `v1,${Buffer.alloc(32, 7).toString('base64')}`;
const forged = (headers: Record<string, string>) =>
  apiEvent(body, {
    sign: false,
    headers: { 'webhook-id': 'msg_forged', 'webhook-timestamp': String(now), 'webhook-signature': bogus, ...headers },
  });

const scenarios: [string, ReturnType<typeof forged>][] = [
  ['bogus signature, fresh timestamp', forged({})],
  ['bogus signature, timestamp 1 h old', forged({ 'webhook-timestamp': String(now - 3600) })],
  ['timestamp 1 h in the future', forged({ 'webhook-timestamp': String(now + 3600) })],
  ['malformed signature header', forged({ 'webhook-signature': 'v1,not base64!' })],
];

process.stdout.write(
  `body ${body.length.toLocaleString('en')} bytes, event ${Buffer.byteLength(JSON.stringify(scenarios[0]?.[1])).toLocaleString('en')} bytes\n`,
);
for (const [name, event] of scenarios) {
  const times: number[] = [];
  let status = 0;
  for (let i = 0; i < WARM_UP + REQUESTS; i++) {
    const started = performance.now();
    const result = await api(event, lambdaContext());
    if (i >= WARM_UP) times.push(performance.now() - started);
    status = result.statusCode ?? 0;
  }
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  process.stdout.write(
    `${name.padEnd(38)} ${status}  median ${median(times).toFixed(2)} ms  mean ${mean.toFixed(2)} ms per request\n`,
  );
}
