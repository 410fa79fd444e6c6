/** Runs `tim-attr` in-process against a test stack, with its own streams, environment and Ctrl-C. */
import { PassThrough, Writable } from 'node:stream';
import { runCli } from '../../cli/main.ts';
import type { CliIo } from '../../cli/io.ts';
import { StaticCredentialSource } from '../../lib/credentials/static-source.ts';
import { ImClient } from '../../lib/im/client.ts';
import { TEST_CREDENTIALS } from '../helpers/factories.ts';
import type { Stack } from '../helpers/stack.ts';
import { recordForSecretScan } from '../setup/output-capture.ts';
import { ownPacers } from '../../lib/pacing/pacer-for.ts';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly env?: Readonly<Record<string, string>>;
  /** Typed on stdin; with `tty`, stdin is a terminal that can be asked. */
  readonly stdin?: string;
  readonly tty?: boolean;
  readonly cwd?: string;
  /** Receives the CLI's Ctrl-C handler as soon as it registers one, to press it. */
  readonly onInterruptRegistered?: (press: () => void) => void;
}

/** The environment pointing the CLI at a test stack: its queues, table, emulator and credentials. */
export function stackEnv(stack: Stack): Record<string, string> {
  return {
    AWS_REGION: 'ap-southeast-1',
    SQS_ENDPOINT: stack.sqsEndpoint,
    LANES_QUEUE_URL: stack.lanesUrl,
    INTAKE_QUEUE_URL: stack.intakeUrl,
    DLQ_URL: stack.dlqUrl,
    DYNAMODB_ENDPOINT: stack.dynamoEndpoint,
    IDEMPOTENCY_TABLE: stack.tableName,
    BUDGET_TABLE: stack.budgetTableName,
    IM_BASE_URL: stack.emulator.url,
    TIM_SDKAPPID: String(TEST_CREDENTIALS.sdkAppId),
    TIM_IDENTIFIER: TEST_CREDENTIALS.identifier,
    TIM_SECRET_KEY: TEST_CREDENTIALS.secretKey,
    WEBHOOK_SECRET: TEST_CREDENTIALS.webhookSecret,
  };
}

function collector(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

/** Runs one command line; everything it prints also goes into the suite's secret scan. */
export async function runTimAttr(
  stack: Stack | undefined,
  args: readonly string[],
  options: RunOptions = {},
): Promise<CliRun> {
  const stdout = collector();
  const stderr = collector();
  const stdin = Object.assign(new PassThrough(), { isTTY: options.tty === true });
  if (options.stdin !== undefined) stdin.end(options.stdin);
  const io: CliIo = {
    stdout: stdout.stream,
    stderr: stderr.stream,
    stdin,
    env: { ...(stack === undefined ? {} : stackEnv(stack)), ...options.env },
    cwd: options.cwd ?? process.cwd(),
    onInterrupt(handler) {
      options.onInterruptRegistered?.(handler);
      return () => undefined;
    },
    exitNow(code) {
      throw new Error(`the CLI asked to exit at once with ${code}`);
    },
  };
  const code = await runCli(args, io);
  recordForSecretScan(stdout.text());
  recordForSecretScan(stderr.text());
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** A client of the stack's IM emulator, to set up and read attributes directly. */
export function emulatorClient(stack: Stack): ImClient {
  return new ImClient({
    baseUrl: stack.emulator.url,
    credentials: new StaticCredentialSource({
      sdkAppId: TEST_CREDENTIALS.sdkAppId,
      identifier: TEST_CREDENTIALS.identifier,
      secretKey: TEST_CREDENTIALS.secretKey,
    }),
    pacerFor: ownPacers(100),
  });
}

/** Parses a `--json` run's stdout. */
export function jsonOf(run: CliRun): unknown {
  return JSON.parse(run.stdout);
}
