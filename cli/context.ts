import type { ImClient } from '../lib/im/client.ts';
import type { GatewayTarget } from './config/gateway-target.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import type { CliIo } from './io.ts';

/** Options every command takes. */
export interface CommonOptions {
  readonly json?: boolean;
  readonly stage?: string;
  readonly region?: string;
}

/**
 * The CLI's pace for IM. IM allows 100 calls/s per command and app, shared with a running gateway (whose
 * own reads of the names, and its writes, draw on the same app): the CLI takes a modest share by default.
 */
export const DEFAULT_IM_RATE = 20;

/** What the commands share during one run: the streams, where the gateway is, and the exit code so far. */
export class CliContext {
  readonly io: CliIo;
  exitCode: ExitCode = EXIT.ok;
  #target: Promise<GatewayTarget> | undefined;
  readonly #closers: (() => void)[] = [];

  constructor(io: CliIo) {
    this.io = io;
  }

  /** The gateway the options point at, resolved once. */
  target(options: CommonOptions): Promise<GatewayTarget> {
    // Loaded on first use: the AWS SDK clients weigh ~60 MB of memory that a dry run does not need.
    this.#target ??= import('./config/gateway-target.ts')
      .then(({ resolveTarget }) => resolveTarget({ stage: options.stage, region: options.region }, this.io.env))
      .then((target) => {
        this.#closers.push(() => target.close());
        return target;
      });
    return this.#target;
  }

  /** An IM client paced at `ratePerSecond` per command, with short retries (a person is waiting). */
  async im(options: CommonOptions, ratePerSecond: number = DEFAULT_IM_RATE): Promise<ImClient> {
    const target = await this.target(options);
    // Loaded on first use, like the target: a dry run with --attr-names never calls IM.
    const [{ ImClient }, { ownPacers }] = await Promise.all([
      import('../lib/im/client.ts'),
      import('../lib/pacing/pacer-for.ts'),
    ]);
    const client = new ImClient({
      baseUrl: target.imBaseUrl,
      credentials: target.imCredentials,
      pacerFor: ownPacers(ratePerSecond),
      retry: { maxAttempts: 4, maxTotalMs: 10_000 },
    });
    this.#closers.push(() => client.close());
    return client;
  }

  /** Records a partial failure without lowering a worse code already set. */
  fail(code: ExitCode = EXIT.failed): void {
    if (code > this.exitCode) this.exitCode = code;
  }

  close(): void {
    for (const close of this.#closers.splice(0)) close();
  }
}
