import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { SQS_MAX_MESSAGE_BYTES } from '../../lib/queue/message-format.ts';
import { numberIn, withCommonOptions } from '../common-options.ts';
import type { GatewayTarget } from '../config/gateway-target.ts';
import type { CliContext, CommonOptions } from '../context.ts';
import { describeError } from '../describe-error.ts';
import { EXIT, UsageError } from '../exit-codes.ts';
import { isInteractive } from '../io.ts';
import { renderTable, writeJson, writeLine } from '../output.ts';
import { fileIdentity, readCheckpoint } from '../push/checkpoint.ts';
import type { Destination } from '../push/destination.ts';
import { INPUT_FORMATS, inputFormat, type InputFormat } from '../push/input-format.ts';
import { progressReporter } from '../push/progress.ts';
import { runPush, type PushResult } from '../push/push-run.ts';
import { chooseStart, startCheckpoint, type StartRequest } from '../push/start-point.ts';
import { readAllowedNames } from '../read-allowed-names.ts';

interface PushOptions extends CommonOptions {
  readonly format?: InputFormat;
  readonly dryRun?: boolean;
  readonly resume?: boolean;
  readonly restart?: boolean;
  readonly url?: string;
  readonly secret?: string;
  readonly attrNames?: string;
  readonly messageBytes: number;
  readonly progressEvery: number;
}

/**
 * Default body size of one message: four fit one SendMessageBatch call (1 MiB for the whole call), and each is
 * a few thousand users, so the worker moves them into lanes in few, full lane messages.
 */
const DEFAULT_MESSAGE_BYTES = 250_000;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The `--url`: signed requests carry users' values, so plain http is refused except to this machine. */
function webhookUrl(text: string): URL {
  if (!URL.canParse(text)) throw new UsageError(`--url must be a URL, e.g. https://…/v1/user-attrs (got "${text}")`);
  const url = new URL(text);
  if (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) return url;
  throw new UsageError(`--url must use https:// (plain http:// only to localhost): ${url.protocol}//${url.host}`);
}

/**
 * The secret that signs `--url` requests, and where it came from (never printed): `--secret`, else with `--stage`
 * the stage's own webhook secret (a WEBHOOK_SECRET left in the shell is another gateway's), else WEBHOOK_SECRET or
 * the local stack's.
 */
async function signingSecret(
  ctx: CliContext,
  options: PushOptions,
  target: GatewayTarget,
): Promise<{ secret: string; from: string }> {
  const fromEnv = ctx.io.env['WEBHOOK_SECRET']?.trim();
  const [secret, from] =
    options.secret !== undefined
      ? [options.secret, '--secret']
      : options.stage !== undefined
        ? [await target.webhookSecret(), `the webhook secret of stage ${options.stage}`]
        : fromEnv !== undefined && fromEnv !== ''
          ? [fromEnv, 'WEBHOOK_SECRET']
          : [await target.webhookSecret(), "the local stack's webhook secret"];
  if (secret === undefined || !secret.startsWith('whsec_'))
    throw new UsageError(`the webhook secret (${from}) must be the whsec_… secret the gateway checks`);
  return { secret, from };
}

/** The destination the options name, and how the checkpoint records it (a resume must go to the same place). */
async function openDestination(
  ctx: CliContext,
  options: PushOptions,
  runId: string,
  group: string,
): Promise<{ sink: Destination; key: string }> {
  const target = await ctx.target(options);
  if (options.url !== undefined) {
    const url = webhookUrl(options.url);
    const { secret, from } = await signingSecret(ctx, options, target);
    writeLine(ctx.io.stderr, `Signing requests to ${url.host} with ${from}.`);
    const { WebhookDestination } = await import('../push/webhook-destination.ts');
    return { sink: new WebhookDestination({ url: options.url, secret, runId }), key: `webhook ${options.url}` };
  }
  const queueUrl = await target.queueUrl('intake');
  const { IntakeDestination } = await import('../push/intake-destination.ts');
  return {
    sink: new IntakeDestination({ sqs: target.sqs, queueUrl, messageGroupId: group, runId }),
    key: `intake ${queueUrl}`,
  };
}

function summaryRows(
  file: string,
  format: InputFormat,
  result: PushResult,
  destination: string,
  elapsedMs: number,
  rejectedFile: string,
  resumedAfter: number | undefined,
): (string | number)[][] {
  const seconds = elapsedMs / 1000;
  const unit = format === 'json' ? 'entries' : 'lines';
  return [
    ['file', `${file} (${format})`],
    ['destination', destination],
    [`${unit} read`, `${result.read}${resumedAfter === undefined ? '' : ` (resumed after position ${resumedAfter})`}`],
    ['valid users', result.read - (result.rejected - result.rejectedBefore)],
    [
      'users sent',
      `${result.usersSent} in ${result.messagesSent} messages${result.complete ? '' : `, through position ${result.sentThrough}`}`,
    ],
    ['rejected', result.rejected === 0 ? '0' : `${result.rejected}, see ${rejectedFile}`],
    ['time', `${seconds.toFixed(1)} s, ${Math.round(result.read / Math.max(seconds, 0.001))} ${unit}/s`],
  ];
}

/** `tim-attr push FILE`: the backfill. */
export function registerPush(program: Command, ctx: CliContext): void {
  withCommonOptions(program.command('push'))
    .description(
      'send a file of users to the gateway (the intake queue, or a webhook), checked with its rules, in order, resumable',
    )
    .argument(
      '<file>',
      'CSV (To_Account,<name>,…; empty cell: unchanged, \\N: removed), NDJSON (one user a line) or JSON ({"UserAttrs":[…]}, up to 64 MiB)',
    )
    .addOption(new Option('--format <format>', 'the file format (default: from the extension)').choices(INPUT_FORMATS))
    .option('--dry-run', "only check the file with the gateway's rules; send nothing")
    .option('--resume', 'continue an interrupted push of this file from its checkpoint (FILE.checkpoint.json)')
    .option('--restart', 'send the whole file again although a checkpoint of an interrupted push exists')
    .option('--url <url>', "send to this webhook URL (signed) instead of the gateway's intake queue")
    .option(
      '--secret <whsec>',
      "webhook secret for --url (default: with --stage the stage's secret, else WEBHOOK_SECRET or the local stack's)",
    )
    .option(
      '--attr-names <names>',
      "the app's attribute names, comma-separated (default: ATTR_NAMES, else read from IM)",
    )
    .option(
      '--message-bytes <bytes>',
      'largest message body',
      numberIn(1000, SQS_MAX_MESSAGE_BYTES - 10_000, true),
      DEFAULT_MESSAGE_BYTES,
    )
    .option('--progress-every <seconds>', 'without a terminal, a progress line this often', numberIn(0.1, 3600), 2)
    .addHelpText(
      'after',
      `
Bad lines go to FILE.rejected.ndjson ({"line":12,"To_Account":…,"path":"Attrs.city","rule":…,"reason":…}).
Ctrl-C finishes the batch in flight, writes FILE.checkpoint.json and exits 130; a second Ctrl-C stops at once.

Examples:
  tim-attr push users.csv --dry-run
  tim-attr push users.csv
  tim-attr push users.csv --resume
  tim-attr push users.ndjson --url https://…/v1/user-attrs --secret whsec_…
`,
    )
    .action((fileArg: string, options: PushOptions) => pushFile(ctx, fileArg, options));
}

/** What a push run starts from: the file, its checkpoint and rejected-file paths, and where it begins. */
interface PreparedPush {
  readonly file: string;
  readonly format: InputFormat;
  readonly dryRun: boolean;
  readonly checkpointPath: string;
  readonly rejectedPath: string;
  readonly request: StartRequest;
  readonly start: ReturnType<typeof startCheckpoint>;
  readonly resuming: boolean;
  readonly allowedNames: Awaited<ReturnType<typeof readAllowedNames>>;
  readonly sink: Destination | undefined;
}

/** The action of `tim-attr push FILE`. */
async function pushFile(ctx: CliContext, fileArg: string, options: PushOptions): Promise<void> {
  const prepared = await preparePush(ctx, fileArg, options);
  const started = performance.now();
  const result = await runInterruptibly(ctx, options, prepared);
  reportPush(ctx, fileArg, options, prepared, result, performance.now() - started);
}

async function preparePush(ctx: CliContext, fileArg: string, options: PushOptions): Promise<PreparedPush> {
  const file = resolve(ctx.io.cwd, fileArg);
  if (!existsSync(file)) throw new UsageError(`${fileArg}: no such file`);
  const format = inputFormat(file, options.format);
  const dryRun = options.dryRun === true;
  if (dryRun && (options.resume === true || options.url !== undefined))
    throw new UsageError('--dry-run sends nothing: it goes with neither --resume nor --url');
  const checkpointPath = `${file}.checkpoint.json`;
  const rejectedPath = `${file}.rejected.ndjson`;
  const allowedNames = await readAllowedNames(ctx, options);
  const request: StartRequest = {
    file,
    fileArg,
    format,
    identity: await fileIdentity(file),
    existing: dryRun ? undefined : await readCheckpoint(checkpointPath),
    checkpointPath,
    resume: options.resume === true,
    restart: options.restart === true,
    maxBodyBytes: options.messageBytes,
  };
  const point = chooseStart(request);
  const opened = dryRun ? undefined : await openDestination(ctx, options, point.runId, point.messageGroupId);
  const start = startCheckpoint(request, point, opened?.key ?? 'dry run');
  const resuming = point.resuming !== undefined;
  if (resuming)
    writeLine(ctx.io.stderr, `Resuming after position ${start.sentThrough} (${start.usersSent} users already sent).`);
  return {
    file,
    format,
    dryRun,
    checkpointPath,
    rejectedPath,
    request,
    start,
    resuming,
    allowedNames,
    sink: opened?.sink,
  };
}

/** Runs the push; a first Ctrl-C finishes the batch in flight and writes the checkpoint, a second stops at once. */
async function runInterruptibly(ctx: CliContext, options: PushOptions, p: PreparedPush): Promise<PushResult> {
  let stop = false;
  const unsubscribe = ctx.io.onInterrupt(() => {
    if (stop) {
      writeLine(ctx.io.stderr, 'Stopped at once; the checkpoint is from the last batch sent.');
      ctx.io.exitNow(EXIT.interrupted);
      return;
    }
    stop = true;
    writeLine(
      ctx.io.stderr,
      'Finishing the batch in flight, then writing the checkpoint (Ctrl-C again to stop at once)…',
    );
  });
  try {
    return await runPush({
      start: p.start,
      resuming: p.resuming,
      checkpointPath: p.checkpointPath,
      rejectedPath: p.rejectedPath,
      allowedNames: p.allowedNames,
      destination: p.sink,
      progress: progressReporter({
        stream: ctx.io.stderr,
        interactive: isInteractive(ctx.io.stderr, ctx.io.env),
        totalBytes: p.request.identity.size,
        everyMs: options.progressEvery * 1000,
        verb: p.dryRun ? 'checked' : 'pushed',
      }),
      stopRequested: () => stop,
    });
  } finally {
    unsubscribe();
  }
}

/** The summary (a table, or JSON with --json), and the exit code: failed, interrupted, or lines rejected. */
function reportPush(
  ctx: CliContext,
  fileArg: string,
  options: PushOptions,
  p: PreparedPush,
  result: PushResult,
  elapsedMs: number,
): void {
  const { file, format, dryRun, checkpointPath, rejectedPath } = p;
  const destination = p.sink?.label ?? 'none (dry run)';
  if (options.json === true) {
    writeJson(ctx.io.stdout, {
      file,
      format,
      destination,
      dryRun,
      ...result,
      error: result.error === undefined ? undefined : describeError(result.error),
      rejectedFile: result.rejected > 0 ? rejectedPath : undefined,
      checkpointFile: result.complete || dryRun ? undefined : checkpointPath,
      elapsedMs: Math.round(elapsedMs),
    });
  } else {
    // The table names files as they were typed; --json gives absolute paths.
    const rows = summaryRows(
      fileArg,
      format,
      result,
      destination,
      elapsedMs,
      `${fileArg}.rejected.ndjson`,
      p.resuming ? p.start.sentThrough : undefined,
    );
    writeLine(ctx.io.stdout, renderTable(['push', dryRun ? 'dry run' : 'result'], rows));
  }
  if (result.error !== undefined) {
    writeLine(
      ctx.io.stderr,
      dryRun
        ? `Stopped: ${describeError(result.error)}.`
        : `Stopped: ${describeError(result.error)}. Everything through position ${result.sentThrough} was sent; run again with --resume to send the rest.`,
    );
    ctx.fail(EXIT.failed);
  } else if (result.interrupted) {
    writeLine(
      ctx.io.stderr,
      dryRun
        ? 'Interrupted.'
        : `Interrupted after position ${result.sentThrough}; ${checkpointPath} holds the progress: run again with --resume to send the rest.`,
    );
    ctx.fail(EXIT.interrupted);
  } else if (result.rejected > 0) {
    ctx.fail(EXIT.failed);
  }
}
