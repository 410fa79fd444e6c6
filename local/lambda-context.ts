import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/** What a local invocation knows about the function it pretends to be. */
export interface LambdaContextOptions {
  readonly functionName: string;
  /** The function timeout: `getRemainingTimeInMillis()` counts down from it. */
  readonly timeoutMs: number;
  readonly memoryLimitInMB?: number;
  readonly awsRegion?: string;
  /** Millisecond clock; injectable for tests. */
  readonly now?: () => number;
}

export const lambdaContextDefaults = {
  memoryLimitInMB: 256,
  awsRegion: 'ap-southeast-1',
  now: Date.now as () => number,
} as const;

const unsupported = (name: string) => (): never => {
  throw new Error(`context.${name}() is a callback-style API; handlers here are async`);
};

/**
 * A Lambda `Context` for one local invocation: a fresh request id and a deadline starting now.
 * The ARN uses the fake account of the local SQS emulator (000000000000).
 */
export function createLambdaContext(options: LambdaContextOptions): Context {
  const { functionName, timeoutMs } = options;
  const memoryLimitInMB = options.memoryLimitInMB ?? lambdaContextDefaults.memoryLimitInMB;
  const awsRegion = options.awsRegion ?? lambdaContextDefaults.awsRegion;
  const now = options.now ?? lambdaContextDefaults.now;
  const deadline = now() + timeoutMs;
  const awsRequestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${awsRegion}:000000000000:function:${functionName}`,
    memoryLimitInMB: String(memoryLimitInMB),
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${awsRequestId.replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - now()),
    done: unsupported('done'),
    fail: unsupported('fail'),
    succeed: unsupported('succeed'),
  };
}
