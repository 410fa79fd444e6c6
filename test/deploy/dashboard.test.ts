import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import DEFAULTS from '../../lib/config/defaults.json' with { type: 'json' };
import { DIMENSION, METRIC } from '../../lib/observability/telemetry.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const serverlessBin = join(root, 'node_modules/serverless/bin/serverless.js');
const run = promisify(execFile);

const resourceSchema = z.object({ Type: z.string(), Properties: z.record(z.string(), z.unknown()).default({}) });
const printedSchema = z.object({
  provider: z.object({ environment: z.record(z.string(), z.unknown()), httpApi: z.unknown().optional() }),
  functions: z.record(z.string(), z.object({ events: z.array(z.record(z.string(), z.unknown())) })),
  resources: z.object({
    Resources: z.record(z.string(), resourceSchema),
    Outputs: z.record(z.string(), z.object({ Value: z.unknown() })),
  }),
});

const expressionRow = z.tuple([z.object({ expression: z.string(), id: z.string() }).loose()]);
const metricOptions = z.object({ id: z.string().optional(), stat: z.string().optional() }).loose();
/** [namespace, name, dimension, value, …, options?]: no "." shorthand, so every row names what it reads. */
const metricRow = z.array(z.union([z.string(), metricOptions])).min(2);
const widgetSchema = z.object({
  type: z.literal('metric'),
  x: z.number(),
  y: z.number(),
  width: z.number(),
  height: z.number(),
  properties: z
    .object({
      title: z.string(),
      region: z.string(),
      stat: z.string().optional(),
      metrics: z.array(z.union([expressionRow, metricRow])),
    })
    .loose(),
});
const bodySchema = z.object({ widgets: z.array(widgetSchema) }).strict();

type Widget = z.infer<typeof widgetSchema>;

/** A metric a panel reads: explicitly, or through a SEARCH expression's schema and MetricName. */
interface MetricRef {
  readonly namespace: string;
  readonly name: string;
  /** Dimension name → value (a SEARCH schema gives names; its values are the filters it sets, if any). */
  readonly dimensions: Readonly<Record<string, string | undefined>>;
  readonly id?: string;
  readonly stat?: string;
}

const REGION = 'ap-southeast-1';
/** `${Logical.Attr}` and `${Logical}` in the Fn::Sub body, replaced by recognisable stand-ins. */
const standIn = (name: string): string => (name === 'AWS::Region' ? REGION : `<${name}>`);

/** The panels the operator asked for, by title. */
const PANELS = {
  usersApplied: 'Users applied per second',
  imCallsByCode: 'IM calls by ErrorCode',
  rateLimited: 'Rate-limited share of IM calls',
  backlog: 'Lane backlog age and depth',
  deadLetters: 'Dead letters by rule',
  api: 'API latency and 4xx/5xx',
} as const;

/** The dimension sets the handlers publish each metric under (test/observability checks the EMF itself). */
function emittedDimensionSets(name: string): string[][] {
  if (name === METRIC.imCalls) return [[DIMENSION.service], [DIMENSION.errorCode, DIMENSION.service].sort()];
  if (name === METRIC.deadLetters) return [[DIMENSION.rule, DIMENSION.service].sort()];
  return [[DIMENSION.service]];
}

/** AWS's own metrics the panels read, by namespace, and the dimension each is read by. */
const AWS_METRICS: Readonly<Record<string, { dimension: string; names: readonly string[] }>> = {
  'AWS/SQS': { dimension: 'QueueName', names: ['ApproximateAgeOfOldestMessage', 'ApproximateNumberOfMessagesVisible'] },
  // An HTTP API (API Gateway v2): `4xx`/`5xx` by `ApiId`, not a REST API's `4XXError` by `ApiName`.
  'AWS/ApiGateway': { dimension: 'ApiId', names: ['Latency', 'IntegrationLatency', '4xx', '5xx', 'Count'] },
  'AWS/Lambda': { dimension: 'FunctionName', names: ['Errors', 'Throttles', 'Duration'] },
};

function searchRefs(expression: string): MetricRef[] {
  const found = [...expression.matchAll(/SEARCH\('\{([^}]*)\}\s+([^']*)'/g)];
  return found.map(([, schema = '', terms = '']) => {
    const [namespace = '', ...dimensionNames] = schema.split(',');
    const filters = Object.fromEntries(
      [...terms.matchAll(/(\w+)="([^"]*)"/g)].map(([, key = '', value = '']) => [key, value]),
    );
    const { MetricName: name = '', ...dimensionFilters } = filters;
    return { namespace, name, dimensions: Object.fromEntries(dimensionNames.map((d) => [d, dimensionFilters[d]])) };
  });
}

type Row = Widget['properties']['metrics'][number];

/** A row's metric-math expression, or undefined for a row that reads a metric. */
function expressionOf(row: Row): string | undefined {
  const parsed = expressionRow.safeParse(row);
  return parsed.success ? parsed.data[0].expression : undefined;
}

function refsOf(widget: Widget): MetricRef[] {
  return widget.properties.metrics.flatMap((row): MetricRef[] => {
    const expression = expressionOf(row);
    if (expression !== undefined) return searchRefs(expression);
    const strings = row.filter((cell): cell is string => typeof cell === 'string');
    const options = z.array(metricOptions).parse(row.filter((cell) => typeof cell === 'object'))[0] ?? {};
    const [namespace = '', name = '', ...pairs] = strings;
    const dimensions: Record<string, string> = {};
    for (let i = 0; i + 1 < pairs.length; i += 2) dimensions[pairs[i] ?? ''] = pairs[i + 1] ?? '';
    return [
      {
        namespace,
        name,
        dimensions,
        ...(options.id === undefined ? {} : { id: options.id }),
        stat: options.stat ?? widget.properties.stat ?? '',
      },
    ];
  });
}

function expressionsOf(widget: Widget): string[] {
  return widget.properties.metrics.flatMap((row) => expressionOf(row) ?? []);
}

let printed: z.infer<typeof printedSchema>;
let dashboard: z.infer<typeof resourceSchema>;
let widgets: Widget[];
/** Every `${…}` the body substitutes. */
let substituted: Set<string>;

function panel(title: string): Widget {
  const found = widgets.filter((w) => w.properties.title === title);
  if (found.length !== 1) throw new Error(`expected one panel "${title}", found ${found.length}`);
  return found[0] as Widget;
}

beforeAll(async () => {
  // `print` resolves the framework's variables and leaves CloudFormation's to CloudFormation: no build, no AWS call.
  const { stdout } = await run(
    process.execPath,
    [serverlessBin, 'print', '--stage', 'dev', '--region', REGION, '--format', 'json'],
    { cwd: root, env: process.env },
  );
  printed = printedSchema.parse(JSON.parse(stdout));
  const found = printed.resources.Resources['Dashboard'];
  if (found === undefined) throw new Error('serverless.yml has no Dashboard resource');
  dashboard = found;
  const template = z.object({ 'Fn::Sub': z.string() }).parse(dashboard.Properties['DashboardBody'])['Fn::Sub'];
  substituted = new Set([...template.matchAll(/\$\{([^}]+)\}/g)].map(([, name = '']) => name));
  widgets = bodySchema.parse(
    JSON.parse(template.replace(/\$\{([^}]+)\}/g, (_, name: string) => standIn(name))),
  ).widgets;
}, 60_000);

describe('the CloudWatch dashboard (serverless.yml, stage dev)', () => {
  it('is one AWS::CloudWatch::Dashboard per stage, named after it, whose panels all read this region', () => {
    // Prepare
    const regions = () => new Set(widgets.map((w) => w.properties.region));

    // Act
    const titles = widgets.map((w) => w.properties.title);

    // Assess
    expect(dashboard.Type).toBe('AWS::CloudWatch::Dashboard');
    expect(dashboard.Properties['DashboardName']).toBe(`${DEFAULTS.service}-dev`);
    expect(titles).toEqual(expect.arrayContaining(Object.values(PANELS)));
    expect(new Set(titles).size).toBe(titles.length);
    expect(regions()).toEqual(new Set([REGION]));
  });

  it("substitutes only the region and this stack's own queues, HTTP API and functions", () => {
    // Prepare
    const resources = printed.resources.Resources;
    // Resources the framework generates from `functions` and `provider.httpApi`.
    const generated = new Set([
      ...Object.keys(printed.functions).map((f) => `${f[0]?.toUpperCase() ?? ''}${f.slice(1)}LambdaFunction`),
      'HttpApi',
    ]);

    // Act
    const unknown = [...substituted].filter((name) => {
      if (name === 'AWS::Region') return false;
      const [logicalId = '', attribute] = name.split('.');
      if (attribute === undefined) return !generated.has(logicalId) && resources[logicalId] === undefined;
      return !(attribute === 'QueueName' && resources[logicalId]?.Type === 'AWS::SQS::Queue');
    });

    // Assess
    expect(unknown).toEqual([]);
    expect(substituted).toEqual(
      new Set([
        'AWS::Region',
        'LanesQueue.QueueName',
        'IntakeQueue.QueueName',
        'DeadLetterQueue.QueueName',
        'HttpApi',
        'ApiLambdaFunction',
        'WorkerLambdaFunction',
      ]),
    );
  });

  it('reads only metrics the handlers emit, in their namespace, under their service and dimension sets', () => {
    // Prepare
    const environment = printed.provider.environment;
    const namespace = environment['POWERTOOLS_METRICS_NAMESPACE'];
    const service = environment['POWERTOOLS_SERVICE_NAME'];
    const emitted: readonly string[] = Object.values(METRIC);

    // Act
    const ours = widgets.flatMap(refsOf).filter((r) => !r.namespace.startsWith('AWS/'));

    // Assess
    expect(namespace).toBe('TimAttrGateway');
    expect(service).toBe(`${DEFAULTS.service}-dev`);
    expect(ours.length).toBeGreaterThan(0);
    for (const ref of ours) {
      expect(ref.namespace).toBe(namespace);
      expect(emitted).toContain(ref.name);
      expect(emittedDimensionSets(ref.name)).toContainEqual(Object.keys(ref.dimensions).sort());
      expect(ref.dimensions[DIMENSION.service]).toBe(service);
    }
  });

  it("reads AWS's own metrics by names and dimensions AWS publishes, of this stack's resources", () => {
    // Prepare
    const theirs = widgets.flatMap(refsOf).filter((r) => r.namespace.startsWith('AWS/'));

    // Act
    const offList = theirs.filter((r) => {
      const known = AWS_METRICS[r.namespace];
      return (
        known === undefined || !known.names.includes(r.name) || Object.keys(r.dimensions).join() !== known.dimension
      );
    });

    // Assess
    expect(theirs.length).toBeGreaterThan(0);
    expect(offList).toEqual([]);
  });

  it('shows users applied per second: the UsersApplied sum divided by its period', () => {
    // Prepare
    const widget = panel(PANELS.usersApplied);

    // Act
    const applied = refsOf(widget).find((r) => r.name === METRIC.usersApplied);

    // Assess
    expect(applied).toMatchObject({ stat: 'Sum', id: expect.any(String) });
    expect(expressionsOf(widget)).toContain(`${applied?.id ?? '?'} / PERIOD(${applied?.id ?? '?'})`);
  });

  it('shows IM calls split by ErrorCode, from the ImCalls the handlers publish per code', () => {
    // Prepare
    const widget = panel(PANELS.imCallsByCode);

    // Act
    const refs = refsOf(widget);

    // Assess
    expect(refs).toEqual([
      {
        namespace: 'TimAttrGateway',
        name: METRIC.imCalls,
        dimensions: { [DIMENSION.errorCode]: undefined, [DIMENSION.service]: `${DEFAULTS.service}-dev` },
      },
    ]);
    expect(expressionsOf(widget)[0]).toMatch(/, 'Sum', 60\)$/);
  });

  it('shows the rate-limited share as ImRateLimited over the total of ImCalls (no search)', () => {
    // Prepare
    const widget = panel(PANELS.rateLimited);
    const refs = refsOf(widget);

    // Act
    const limited = refs.find((r) => r.name === METRIC.imRateLimited);
    const calls = refs.find((r) => r.name === METRIC.imCalls);

    // Assess
    expect(limited).toMatchObject({ stat: 'Sum', dimensions: { [DIMENSION.service]: `${DEFAULTS.service}-dev` } });
    expect(calls).toMatchObject({ stat: 'Sum', dimensions: { [DIMENSION.service]: `${DEFAULTS.service}-dev` } });
    expect(Object.keys(calls?.dimensions ?? {})).toEqual([DIMENSION.service]);
    expect(expressionsOf(widget)).toEqual([`100 * FILL(${limited?.id ?? '?'}, 0) / ${calls?.id ?? '?'}`]);
  });

  it('shows the age of the oldest message and the depth of the lanes and intake queues', () => {
    // Prepare
    const widget = panel(PANELS.backlog);

    // Act
    const read = refsOf(widget).map((r) => `${r.name} ${r.dimensions['QueueName'] ?? '?'} ${r.stat ?? '?'}`);

    // Assess
    expect(read.sort()).toEqual([
      'ApproximateAgeOfOldestMessage <IntakeQueue.QueueName> Maximum',
      'ApproximateAgeOfOldestMessage <LanesQueue.QueueName> Maximum',
      'ApproximateNumberOfMessagesVisible <IntakeQueue.QueueName> Maximum',
      'ApproximateNumberOfMessagesVisible <LanesQueue.QueueName> Maximum',
    ]);
    expect(widget.properties['annotations']).toEqual({
      horizontal: [{ value: DEFAULTS.laneAgeAlarmSeconds, label: 'lanes-backlog-age alarm' }],
    });
  });

  it("shows dead letters split by Rule, beside the dead-letter queue's depth", () => {
    // Prepare
    const widget = panel(PANELS.deadLetters);

    // Act
    const refs = refsOf(widget);

    // Assess
    expect(refs).toEqual([
      {
        namespace: 'TimAttrGateway',
        name: METRIC.deadLetters,
        dimensions: { [DIMENSION.rule]: undefined, [DIMENSION.service]: `${DEFAULTS.service}-dev` },
      },
      {
        namespace: 'AWS/SQS',
        name: 'ApproximateNumberOfMessagesVisible',
        dimensions: { QueueName: '<DeadLetterQueue.QueueName>' },
        stat: 'Maximum',
      },
    ]);
  });

  it("shows the HTTP API's latency and its 4xx and 5xx answers", () => {
    // Prepare
    const widget = panel(PANELS.api);
    const routes = Object.values(printed.functions).flatMap((f) => f.events.map((e) => Object.keys(e)[0]));

    // Act
    const read = refsOf(widget).map((r) => `${r.name} ${r.stat ?? '?'} ${r.dimensions['ApiId'] ?? '?'}`);

    // Assess: the service's route is an HTTP API (`httpApi`), whose metrics are by ApiId.
    expect(routes).toContain('httpApi');
    expect(routes).not.toContain('http');
    expect(printed.provider.httpApi).toBeDefined();
    expect(read).toEqual(
      expect.arrayContaining([
        'Latency p50 <HttpApi>',
        'Latency p99 <HttpApi>',
        '4xx Sum <HttpApi>',
        '5xx Sum <HttpApi>',
      ]),
    );
  });

  it("outputs the dashboard's console URL in the stack's region", () => {
    // Prepare
    const output = printed.resources.Outputs['DashboardUrl'];

    // Act
    const value = output?.Value;

    // Assess
    expect(value).toEqual({
      'Fn::Sub':
        'https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home?region=${AWS::Region}#dashboards:name=${Dashboard}',
    });
  });
});
