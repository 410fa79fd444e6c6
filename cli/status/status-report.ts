import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import type { QueueRole } from '../config/gateway-target.ts';
import { QUEUE_ROLES } from '../config/gateway-target.ts';
import type { CliContext, CommonOptions } from '../context.ts';
import { describeError } from '../describe-error.ts';
import { queueDepth } from '../../lib/queue/queue-depth.ts';
import { groupDeadLetters, receiveDeadLetters, releaseDeadLetters } from '../dlq/dead-letters.ts';
import { EXIT } from '../exit-codes.ts';
import { renderTable, writeJson, writeLine } from '../output.ts';
import { oldestMessageAge, queueNameOf } from './oldest-age.ts';

/** Dead letters status reads to count them by rule; more are counted by the queue only. */
const STATUS_LETTERS = 1000;

interface QueueStatus {
  readonly queue: QueueRole;
  readonly name: string;
  readonly visible?: number;
  readonly inFlight?: number;
  readonly delayed?: number;
  /** Seconds; null when it cannot be known here (no CloudWatch locally). */
  readonly oldestAgeSeconds?: number | null;
  readonly oldestAgeSource?: string;
  readonly error?: string;
}

interface TableStatus {
  readonly table: string;
  readonly name: string;
  readonly status?: string;
  readonly items?: number;
  readonly error?: string;
}

const age = (seconds: number | null | undefined): string => {
  if (seconds === null || seconds === undefined) return 'n/a';
  return seconds >= 120 ? `${Math.round(seconds / 60)} min` : `${Math.round(seconds)} s`;
};

type Target = Awaited<ReturnType<CliContext['target']>>;
type Letters = Awaited<ReturnType<typeof receiveDeadLetters>>;
interface ImStatus {
  readonly reachable: boolean;
  readonly names?: number;
  readonly error?: string;
}

/** `tim-attr status`: what the gateway holds and whether its parts answer. */
export async function runStatus(ctx: CliContext, options: CommonOptions): Promise<void> {
  const target = await ctx.target(options);
  const { queues, letters } = await queueStatuses(target);
  const tables = await tableStatuses(target);
  const im = await imStatus(ctx, options);
  const groups = groupDeadLetters(letters);
  if (
    queues.some((q) => q.error !== undefined) ||
    tables.some((t) => t.error !== undefined || t.status !== 'ACTIVE') ||
    !im.reachable
  )
    ctx.fail(EXIT.failed);
  // Drained: nothing visible, in flight or delayed, so no update can be reordered by a change of laneCount
  // (docs/architecture.md).
  const lanes = queues.find((q) => q.queue === 'lanes');
  const lanesDrained =
    lanes !== undefined &&
    lanes.error === undefined &&
    (lanes.visible ?? 0) + (lanes.inFlight ?? 0) + (lanes.delayed ?? 0) === 0;
  if (options.json === true) {
    writeJson(ctx.io.stdout, {
      target: target.label,
      queues,
      lanesDrained,
      deadLetters: groups.map((g) => ({ ...g, oldest: g.oldest?.toISOString() })),
      tables,
      im: { baseUrl: target.imBaseUrl, ...im },
    });
    return;
  }
  printStatus(ctx, target, { queues, lanesDrained, groups, tables, im });
}

/** Each queue's depth and the age of its oldest message; the dead letters read (and released) to count them. */
async function queueStatuses(target: Target): Promise<{ queues: QueueStatus[]; letters: Letters }> {
  const queues: QueueStatus[] = [];
  let letters: Letters = [];
  for (const role of QUEUE_ROLES) {
    let name: string = role;
    try {
      const url = await target.queueUrl(role);
      name = queueNameOf(url);
      const depth = await queueDepth(target.sqs, url);
      let oldest: number | null = null;
      let source = 'no CloudWatch locally';
      if (role === 'deadLetter') {
        letters = await receiveDeadLetters(target.sqs, url, { visibilitySeconds: 30, max: STATUS_LETTERS });
        await releaseDeadLetters(target.sqs, url, letters);
        const first = letters[0]?.sentAt;
        oldest = first === undefined ? null : Math.max(0, (Date.now() - first.getTime()) / 1000);
        source = first === undefined ? 'no letters' : 'the letters';
      } else if (target.cloudwatch !== undefined) {
        oldest = (await oldestMessageAge(target.cloudwatch, url)) ?? null;
        source = 'CloudWatch';
      }
      queues.push({ queue: role, name, ...depth, oldestAgeSeconds: oldest, oldestAgeSource: source });
    } catch (error: unknown) {
      queues.push({ queue: role, name, error: describeError(error) });
    }
  }
  return { queues, letters };
}

/** Whether each of the stage's tables answers (`DescribeTable`), and its status. */
async function tableStatuses(target: Target): Promise<TableStatus[]> {
  const tables: TableStatus[] = [];
  for (const [table, name] of await target.tables()) {
    try {
      const { Table } = await target.dynamodb.send(new DescribeTableCommand({ TableName: name }));
      tables.push({
        table,
        name,
        status: Table?.TableStatus ?? 'unknown',
        ...(Table?.ItemCount === undefined ? {} : { items: Table.ItemCount }),
      });
    } catch (error: unknown) {
      tables.push({ table, name, error: describeError(error) });
    }
  }
  return tables;
}

async function imStatus(ctx: CliContext, options: CommonOptions): Promise<ImStatus> {
  try {
    return { reachable: true, names: (await (await ctx.im(options)).getAttrNames()).length };
  } catch (error: unknown) {
    return { reachable: false, error: describeError(error) };
  }
}

function printStatus(
  ctx: CliContext,
  target: Target,
  status: {
    queues: readonly QueueStatus[];
    lanesDrained: boolean;
    groups: ReturnType<typeof groupDeadLetters>;
    tables: readonly TableStatus[];
    im: ImStatus;
  },
): void {
  const { queues, lanesDrained, groups, tables, im } = status;
  const oldest = (q: QueueStatus): string =>
    q.oldestAgeSeconds === null
      ? q.oldestAgeSource === 'no letters'
        ? '—'
        : `n/a (${q.oldestAgeSource ?? ''})`
      : age(q.oldestAgeSeconds);
  writeLine(ctx.io.stdout, `Gateway: ${target.label}`);
  writeLine(
    ctx.io.stdout,
    renderTable(
      ['queue', 'name', 'visible', 'in flight', 'delayed', 'oldest message'],
      queues.map((q) =>
        q.error === undefined
          ? [q.queue, q.name, q.visible ?? 0, q.inFlight ?? 0, q.delayed ?? 0, oldest(q)]
          : [q.queue, q.name, 'unreachable', '', '', q.error],
      ),
    ),
  );
  writeLine(
    ctx.io.stdout,
    lanesDrained ? 'Lanes: drained (nothing visible, in flight or delayed).' : 'Lanes: not drained.',
  );
  writeLine(
    ctx.io.stdout,
    groups.length === 0
      ? 'Dead letters: none.'
      : `Dead letters by rule:\n${renderTable(
          ['rule', 'ErrorCode', 'letters', 'users'],
          groups.map((g) => [g.rule, g.errorCode ?? '—', g.letters, g.users]),
        )}`,
  );
  writeLine(
    ctx.io.stdout,
    renderTable(
      ['table', 'name', 'status'],
      tables.map((t) => [t.table, t.name, t.error ?? t.status ?? '']),
    ),
  );
  writeLine(
    ctx.io.stdout,
    `IM ${target.imBaseUrl}: ${im.reachable ? `answers (${im.names ?? 0} attribute names)` : `does not answer (${im.error ?? ''})`}`,
  );
}
