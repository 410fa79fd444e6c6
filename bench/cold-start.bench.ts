/**
 * Cold start: each function's bundle built with serverless.yml's esbuild options, its size (.mjs and zip)
 * and the init time it adds to a bare Node start, with the AWS SDK bundled and with it left to the runtime.
 * Init time: a fresh Node process imports the bundle with the env a deployed function has at init (services
 * are built, nothing is called) and reports `performance.now()`; the same spawn importing an empty module
 * is subtracted. Medians of RUNS processes each, variants interleaved so drift hits them all alike. A third
 * variant, minified with a source map (loaded by --enable-source-maps), weighs the build serverless.yml
 * chose not to ship.
 * The target is a ratio, so it carries from one machine to the next: our added init over that of a minimal peer
 * handler (bench/support/peer/peer.ts: middy, the Powertools logger and the same AWS SDK clients, DynamoDB
 * included) built with the same esbuild options and measured in the same run, ≤ 1.25×. Absolute times are
 * printed for information. Prints figures; it is not a test.
 *
 * Run: npx node bench/cold-start.bench.ts
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildFunctionBundle,
  linkNodeModules,
  readServerlessEsbuildOptions,
  takesSdkFromRuntime,
  type FunctionBundle,
} from './support/function-bundle.ts';
import { importTimeMs } from './support/init-time.ts';
import { kb, median } from './support/stats.ts';

const RUNS = 21;
const TARGET_RATIO = 1.25;
// Leaving the SDK to the runtime must win clearly to be worth an SDK version the lockfile no longer pins.
const SWITCH_MIN_SAVING_MS = 20;
const SWITCH_MIN_SAVING_RATIO = 0.25;

const root = fileURLToPath(new URL('..', import.meta.url));
const FUNCTIONS = ['api', 'worker'] as const;
const SDK_PLACES = ['bundled', 'runtime'] as const;
type FunctionName = (typeof FUNCTIONS)[number];
type SdkPlace = (typeof SDK_PLACES)[number];

/** The init env of a deployed function (serverless.yml's `deployed` profile), with placeholder values. */
function initEnv(role: FunctionName, nodeOptions: string): Record<string, string> {
  return {
    FUNCTION_ROLE: role,
    IM_REGION: 'singapore',
    SECRET_ID: 'tim-attr-gateway/bench',
    LANES_QUEUE_URL: 'https://sqs.ap-southeast-1.amazonaws.com/123456789012/tim-attr-gateway-bench-lanes.fifo',
    INTAKE_QUEUE_URL: 'https://sqs.ap-southeast-1.amazonaws.com/123456789012/tim-attr-gateway-bench-intake.fifo',
    IDEMPOTENCY_TABLE: 'tim-attr-gateway-bench-idempotency',
    BUDGET_TABLE: 'tim-attr-gateway-bench-budget',
    DLQ_URL: 'https://sqs.ap-southeast-1.amazonaws.com/123456789012/tim-attr-gateway-bench-dlq',
    AWS_REGION: 'ap-southeast-1',
    LOG_LEVEL: 'INFO',
    POWERTOOLS_SERVICE_NAME: 'tim-attr-gateway',
    POWERTOOLS_METRICS_NAMESPACE: 'TimAttrGateway',
    ...(nodeOptions === '' ? {} : { NODE_OPTIONS: nodeOptions }),
  };
}

const serverless = await readServerlessEsbuildOptions(root);
const configured: SdkPlace = takesSdkFromRuntime(serverless) ? 'runtime' : 'bundled';
const work = await mkdtemp(join(tmpdir(), 'tim-attr-gateway-cold-start-'));
try {
  // Separate folders: the bundled variant must run with no node_modules in reach; the runtime one resolves
  // `@aws-sdk/*` from the project's node_modules, as a function resolves it from the runtime's own path.
  const outDirs: Record<SdkPlace, string> = { bundled: join(work, 'bundled'), runtime: join(work, 'runtime') };
  const bundles = new Map<string, FunctionBundle>();
  for (const sdk of SDK_PLACES) {
    for (const fn of FUNCTIONS) {
      bundles.set(
        `${fn}/${sdk}`,
        await buildFunctionBundle({ root, entry: `handlers/${fn}.ts`, outDir: outDirs[sdk], serverless, awsSdk: sdk }),
      );
    }
  }
  for (const sdk of SDK_PLACES) {
    bundles.set(
      `peer/${sdk}`,
      await buildFunctionBundle({
        root,
        entry: 'bench/support/peer/peer.ts',
        outDir: outDirs[sdk],
        serverless,
        awsSdk: sdk,
      }),
    );
  }
  for (const fn of FUNCTIONS) {
    const outDir = join(work, 'minified');
    bundles.set(
      `${fn}/bundled-min`,
      await buildFunctionBundle({
        root,
        entry: `handlers/${fn}.ts`,
        outDir,
        serverless,
        awsSdk: 'bundled',
        overrides: { minify: true, keepNames: false, sourcemap: true, sourcesContent: false },
      }),
    );
  }
  await linkNodeModules(outDirs.runtime, root);
  const empty = join(work, 'empty.mjs');
  await writeFile(empty, '');

  console.log(
    `serverless.yml esbuild: target ${serverless.target}, format ${serverless.format}, minify ${String(serverless.minify)}, sourcemap ${String(serverless.sourcemap)}; AWS SDK ${configured === 'bundled' ? 'bundled' : 'from the runtime'} (exclude: ${JSON.stringify(serverless.exclude)})`,
  );
  console.log('\nbundle sizes (.mjs / .mjs.map / zip of both, deflate 9); -min: minified, with a source map');
  for (const [key, b] of bundles)
    console.log(
      `  ${key.padEnd(19)} ${kb(b.moduleBytes).padStart(10)}  map ${kb(b.sourceMapBytes).padStart(10)}  zip ${kb(b.zipBytes).padStart(10)}`,
    );

  // serverless.yml deploys no NODE_OPTIONS; --enable-source-maps is what a build with a map would need.
  const flagSets = [
    { label: 'as deployed (no NODE_OPTIONS)', nodeOptions: '' },
    { label: 'with --enable-source-maps', nodeOptions: '--enable-source-maps' },
  ];
  const added = new Map<string, number>();
  const ratios = new Map<string, number>();
  for (const flags of flagSets) {
    const samples = new Map<string, number[]>([
      ['bare', []],
      ...[...bundles.keys()].map((k): [string, number[]] => [k, []]),
    ]);
    for (let i = 0; i < RUNS; i++) {
      samples.get('bare')?.push(importTimeMs(empty, { env: initEnv('api', flags.nodeOptions) }));
      for (const [key, b] of bundles)
        samples.get(key)?.push(
          importTimeMs(b.modulePath, {
            env: initEnv(key.startsWith('worker') ? 'worker' : 'api', flags.nodeOptions),
          }),
        );
    }
    const bare = median(samples.get('bare') ?? []);
    console.log(`\ninit, ${flags.label}: median of ${RUNS} fresh processes; bare Node start ${bare.toFixed(1)} ms`);
    const peer = (key: string): number =>
      median(samples.get(key.endsWith('runtime') ? 'peer/runtime' : 'peer/bundled') ?? []) - bare;
    for (const key of bundles.keys()) {
      const total = median(samples.get(key) ?? []);
      const extra = total - bare;
      // The target applies as deployed; the -min variant needs the flag to map its traces.
      if (flags.nodeOptions === '' ? !key.endsWith('-min') : key.endsWith('-min')) added.set(key, extra);
      const ratio = extra / peer(key);
      const verdict = key.startsWith('peer')
        ? ''
        : `  ${ratio.toFixed(2)}× the peer's ${peer(key).toFixed(1)} ms  ${ratio <= TARGET_RATIO ? 'ok' : 'OVER'} (target ≤ ${TARGET_RATIO}×)`;
      console.log(
        `  ${key.padEnd(19)} ${total.toFixed(1).padStart(7)} ms total  ${extra.toFixed(1).padStart(7)} ms added${verdict}`,
      );
      if (flags.nodeOptions === '' && !key.endsWith('-min') && !key.startsWith('peer')) ratios.set(key, ratio);
    }
  }

  const worst = (sdk: SdkPlace) => Math.max(...FUNCTIONS.map((fn) => added.get(`${fn}/${sdk}`) ?? Number.NaN));
  const saving = worst('bundled') - worst('runtime');
  const zipSaving = FUNCTIONS.reduce(
    (s, fn) => s + (bundles.get(`${fn}/bundled`)?.zipBytes ?? 0) - (bundles.get(`${fn}/runtime`)?.zipBytes ?? 0),
    0,
  );
  const runtimeWins = saving >= SWITCH_MIN_SAVING_MS && saving >= SWITCH_MIN_SAVING_RATIO * worst('bundled');
  const recommended: SdkPlace = runtimeWins ? 'runtime' : 'bundled';
  console.log(
    `\nrecommendation: ${recommended === 'bundled' ? 'bundle the AWS SDK' : 'take the AWS SDK from the runtime'} ` +
      `(runtime SDK saves ${saving.toFixed(1)} ms of the slower function's added init and ${kb(zipSaving)} of zips; ` +
      `switching needs ≥ ${SWITCH_MIN_SAVING_MS} ms and ≥ ${SWITCH_MIN_SAVING_RATIO * 100}%)` +
      (recommended === configured ? ' — as serverless.yml has it.' : ' — serverless.yml has the other setting.'),
  );
  const worstRatio = Math.max(...FUNCTIONS.map((fn) => ratios.get(`${fn}/${configured}`) ?? Number.NaN));
  console.log(
    `\ncold start: added init as deployed, worst function ${worstRatio.toFixed(2)}× the peer handler's (target ≤ ${TARGET_RATIO}×): ${worstRatio <= TARGET_RATIO ? 'met' : 'MISSED'}`,
  );
  if (!(worstRatio <= TARGET_RATIO)) process.exitCode = 1;
} finally {
  await rm(work, { recursive: true, force: true });
}
