/**
 * The IM REST client: every call is paced (rate and concurrency), signed, classified by its body's
 * ErrorCode (reference §4) and retried according to its class.
 *
 * - transient / rate-limited: retried with full-jitter backoff, bounded; rate-limited also penalizes the limiter.
 * - signature-stale: the UserSig is invalidated and the call retried once.
 * - signature-wrong: the credentials are re-read once (key rotation); the call is retried once only if
 *   they changed, otherwise it fails at once. Hammering would trigger IM's 70050 one-minute lockout.
 * - permanent: thrown at once.
 */
import { ConcurrencyLimiter, DEFAULT_MAX_IN_FLIGHT } from '../pacing/concurrency-limiter.ts';
import { processRateLimiter, RateLimiter } from '../pacing/rate-limiter.ts';
import { RetryPolicy } from '../pacing/retry-policy.ts';
import type { RetryOptions } from '../pacing/retry-policy.ts';
import type { CredentialSource, ImCredentials } from '../credentials/types.ts';
import type { UserAttr } from '../rules/types.ts';
import { classifyErrorCode } from './classify.ts';
import { TRANSPORT_ERROR_CODES } from './error-codes.ts';
import { DeadlineError, ImError } from './errors.ts';
import { MemoUserSigProvider } from './memo-sig-provider.ts';
import { ImTransport, TRANSPORT_DEFAULTS } from './transport.ts';
import type { TransportResult } from './transport.ts';
import type { AttemptEvent, ImResponseBody, ImUserError, UserSigProvider } from './types.ts';

/** IM takes at most 100 users per call (reference §2, §3). */
export const MAX_USERS_PER_CALL = 100;

/** The commands this client wraps, as `service/command`. */
export const IM_COMMANDS = {
  setAttr: 'all_member_push/im_set_attr',
  getAttr: 'all_member_push/im_get_attr',
  removeAttr: 'all_member_push/im_remove_attr',
  setAttrName: 'all_member_push/im_set_attr_name',
  getAttrName: 'all_member_push/im_get_attr_name',
} as const;

/** Options of {@link ImClient}. */
export interface ImClientOptions {
  /** From `resolveEndpoint`: `https://domain`, or the emulator's `http://127.0.0.1:port`. */
  readonly baseUrl: string;
  readonly credentials: CredentialSource;
  /** Default: a {@link MemoUserSigProvider}. Production passes the shared single-flight cache. */
  readonly sigProvider?: UserSigProvider;
  /** Default: the process-wide limiter ({@link processRateLimiter}, 100 calls/s). */
  readonly limiter?: RateLimiter;
  /** Most calls in flight. Default 64. */
  readonly maxInFlight?: number;
  /** Per-attempt timeout in ms, > 3000. Default 5000. */
  readonly timeoutMs?: number;
  /** Pool size. Default 128. */
  readonly maxSockets?: number;
  readonly retry?: RetryOptions;
  /** Called after every attempt, for metrics and logs. */
  readonly onAttempt?: (event: AttemptEvent) => void;
  /** Epoch ms, for deadlines. Default `Date.now`. */
  readonly now?: () => number;
}

/** Per-call options. */
export interface CallOptions {
  /** Epoch ms by which the call must be over: no attempt starts that could not finish by then. */
  readonly deadlineMs?: number;
}

/** A per-user failure of `im_set_attr` / `im_remove_attr`. */
export interface FailedUser {
  readonly To_Account: string;
  readonly errorCode: number;
}

/** The outcome of a successful call on many users: those listed failed, all others succeeded. */
export interface SetAttrOutcome {
  readonly failedUsers: readonly FailedUser[];
}

/** One user's attributes to remove, by attribute name. */
export interface UserAttrRemoval {
  readonly To_Account: string;
  readonly Attrs: readonly string[];
}

const sameKey = (a: ImCredentials, b: ImCredentials): boolean => a.sdkAppId === b.sdkAppId && a.identifier === b.identifier && a.secretKey === b.secretKey;

function toFailedUsers(list: readonly ImUserError[] | undefined): FailedUser[] {
  return (list ?? []).filter((entry) => entry.ErrorCode !== 0).map((entry) => ({ To_Account: entry.To_Account, errorCode: entry.ErrorCode }));
}

function checkUserCount(command: string, count: number): void {
  if (count > MAX_USERS_PER_CALL) throw new RangeError(`IM ${command} takes at most ${MAX_USERS_PER_CALL} users per call, got ${count}`);
}

/** The outcome of one attempt, read from the transport's result. */
interface AttemptResult {
  readonly errorCode: number;
  readonly errorInfo: string;
  readonly body?: ImResponseBody;
  readonly cause?: unknown;
}

function readResult(result: TransportResult): AttemptResult {
  if (result.kind === 'failure') return { errorCode: result.errorCode, errorInfo: result.errorInfo, cause: result.cause };
  const { body } = result;
  // Success is ErrorCode 0 with ActionStatus OK; a "FAIL" with code 0 is not trusted as success.
  const errorCode = body.ErrorCode !== 0 || body.ActionStatus === 'OK' ? body.ErrorCode : TRANSPORT_ERROR_CODES.invalidResponse;
  return { errorCode, errorInfo: body.ErrorInfo, body };
}

/**
 * How long a re-read's result stands: within it, a signature-wrong answer for those same credentials fails
 * at once instead of reading the secret again (a wrong key, not a rotation in progress).
 */
const CONFIRMED_WINDOW_MS = 30_000;

/** A paced, retrying client for the IM `all_member_push` attribute commands. */
export class ImClient {
  readonly #credentials: CredentialSource;
  readonly #sig: UserSigProvider;
  readonly #limiter: RateLimiter;
  /** IM limits each command separately (100 calls/s per app, per API): the other commands get their own. */
  readonly #otherLimiters = new Map<string, RateLimiter>();
  readonly #concurrency: ConcurrencyLimiter;
  readonly #transport: ImTransport;
  readonly #retry: RetryPolicy;
  readonly #onAttempt: ((event: AttemptEvent) => void) | undefined;
  readonly #now: () => number;
  readonly #timeoutMs: number;

  /** Bumped when a credential re-read starts, so concurrent failures share one re-read. */
  #refreshGeneration = 0;
  #lastRefresh: Promise<ImCredentials> | undefined;
  /** The result of the last re-read and when it came: credentials IM refuses after it fail fast. */
  #confirmed: { creds: ImCredentials; at: number } | undefined;
  /** The re-read in progress, if any: new attempts wait for it. */
  #refreshing: Promise<ImCredentials> | undefined;

  constructor(options: ImClientOptions) {
    this.#credentials = options.credentials;
    this.#sig = options.sigProvider ?? new MemoUserSigProvider();
    this.#limiter = options.limiter ?? processRateLimiter();
    this.#concurrency = new ConcurrencyLimiter(options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
    this.#transport = new ImTransport({ baseUrl: options.baseUrl, timeoutMs: options.timeoutMs ?? TRANSPORT_DEFAULTS.timeoutMs, maxSockets: options.maxSockets });
    this.#timeoutMs = this.#transport.timeoutMs;
    this.#retry = new RetryPolicy(options.retry);
    this.#onAttempt = options.onAttempt;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Sets attributes of at most 100 users in one call (`im_set_attr`).
   * @throws RangeError on more than 100 users; {@link ImError} when the call fails.
   */
  async setAttr(users: readonly UserAttr[], opts: CallOptions = {}): Promise<SetAttrOutcome> {
    checkUserCount(IM_COMMANDS.setAttr, users.length);
    if (users.length === 0) return { failedUsers: [] };
    const body = await this.call(IM_COMMANDS.setAttr, { UserAttrs: users }, opts);
    return { failedUsers: toFailedUsers(body.ErrorList) };
  }

  /** Reads attributes of at most 100 users (`im_get_attr`); users without attributes have `Attrs: {}`. */
  async getAttr(accounts: readonly string[], opts: CallOptions = {}): Promise<UserAttr[]> {
    checkUserCount(IM_COMMANDS.getAttr, accounts.length);
    if (accounts.length === 0) return [];
    const body = await this.call(IM_COMMANDS.getAttr, { To_Account: accounts }, opts);
    const list = Array.isArray(body['UserAttrs']) ? (body['UserAttrs'] as unknown[]) : [];
    return list.flatMap((entry): UserAttr[] => {
      if (typeof entry !== 'object' || entry === null) return [];
      const { To_Account: account, Attrs: attrs } = entry as Record<string, unknown>;
      if (typeof account !== 'string') return [];
      const values: Record<string, string> = {};
      if (typeof attrs === 'object' && attrs !== null) {
        for (const [name, value] of Object.entries(attrs)) if (typeof value === 'string') values[name] = value;
      }
      return [{ To_Account: account, Attrs: values }];
    });
  }

  /** Removes attributes, by name, of at most 100 users (`im_remove_attr`). */
  async removeAttr(users: readonly UserAttrRemoval[], opts: CallOptions = {}): Promise<SetAttrOutcome> {
    checkUserCount(IM_COMMANDS.removeAttr, users.length);
    if (users.length === 0) return { failedUsers: [] };
    const body = await this.call(IM_COMMANDS.removeAttr, { UserAttrs: users }, opts);
    return { failedUsers: toFailedUsers(body.ErrorList) };
  }

  /** The registered attribute names (`im_get_attr_name`), in slot order "0".."9". */
  async getAttrNames(opts: CallOptions = {}): Promise<string[]> {
    const body = await this.call(IM_COMMANDS.getAttrName, {}, opts);
    const names = body['AttrNames'];
    if (typeof names !== 'object' || names === null) return [];
    return Object.entries(names)
      .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([, name]) => name);
  }

  /** Registers attribute names by slot, e.g. `{"0":"sex","1":"city"}` (`im_set_attr_name`). */
  async setAttrNames(names: Readonly<Record<string, string>>, opts: CallOptions = {}): Promise<void> {
    await this.call(IM_COMMANDS.setAttrName, { AttrNames: names }, opts);
  }

  /**
   * Runs any command (`service/command`) through pacing, signing, classification and retries.
   * @returns the answer body (ErrorCode 0)
   * @throws {@link ImError} when the call fails for good; {@link DeadlineError} when no time is left.
   */
  async call(command: string, body: unknown, opts: CallOptions = {}): Promise<ImResponseBody> {
    const limiter = this.#limiterFor(command);
    const { deadlineMs } = opts;
    const firstStart = this.#now();
    let attempts = 0;
    let resigned = false;
    let reread = false;
    let pinned: ImCredentials | undefined;
    let lastError: ImError | undefined;

    for (;;) {
      if (deadlineMs !== undefined && this.#now() + this.#timeoutMs > deadlineMs) throw new DeadlineError(command, attempts, deadlineMs, lastError);
      let generation = this.#refreshGeneration;
      let creds: ImCredentials | undefined = pinned;
      const result = await this.#concurrency.run(async () => {
        // Send right after the grant; the ticket then moves the start to when the request really left.
        // With a deadline, wait for a slot only as long as an attempt could still finish in time.
        const ticket = deadlineMs === undefined ? await limiter.acquire() : await limiter.acquire(deadlineMs - this.#timeoutMs - this.#now());
        if (ticket === undefined || (deadlineMs !== undefined && this.#now() + this.#timeoutMs > deadlineMs)) return undefined;
        // Credentials and UserSig are taken only now, after the wait: a call queued behind the limiter when
        // the key rotates must not go out with the refused key. While a re-read after a signature-wrong
        // answer is under way, wait for its result (each refusal feeds IM's 70050 lockout).
        if (pinned === undefined && this.#refreshing !== undefined) await this.#refreshing.catch(() => undefined);
        generation = this.#refreshGeneration;
        const used = pinned ?? (await this.#credentials.get());
        creds = used;
        const userSig = await this.#sig.getUserSig(used);
        const started = performance.now();
        const auth = { sdkAppId: used.sdkAppId, identifier: used.identifier, userSig };
        const outcome = readResult(await this.#transport.post(command, auth, body, { onSent: () => ticket.sent() }));
        return { outcome, latencyMs: performance.now() - started };
      });
      if (result === undefined) throw new DeadlineError(command, attempts, deadlineMs ?? 0, lastError);

      attempts += 1;
      const { outcome, latencyMs } = result;
      const errorClass = classifyErrorCode(outcome.errorCode);
      this.#onAttempt?.({ command, errorCode: outcome.errorCode, errorClass, latencyMs, attempt: attempts });
      if (errorClass === 'ok' && outcome.body !== undefined) return outcome.body;

      const error = new ImError({
        errorCode: outcome.errorCode,
        errorInfo: outcome.errorInfo,
        errorClass,
        command,
        attempts,
        errorList: outcome.body?.ErrorList,
        cause: outcome.cause,
      });
      lastError = error;
      const budgetLeft = attempts < this.#retry.maxAttempts;

      switch (errorClass) {
        case 'signature-stale':
          if (resigned || !budgetLeft) throw error;
          resigned = true;
          this.#sig.invalidate();
          continue;
        case 'signature-wrong': {
          if (reread || !budgetLeft) throw error;
          reread = true;
          // A re-read moments ago already returned these very credentials: reading again cannot help.
          const confirmed = this.#confirmed;
          if (creds !== undefined && confirmed !== undefined && sameKey(confirmed.creds, creds) && this.#now() - confirmed.at < CONFIRMED_WINDOW_MS) throw error;
          let fresh: ImCredentials;
          try {
            fresh = await this.#reread(generation);
          } catch (cause) {
            throw new ImError({ errorCode: error.errorCode, errorInfo: error.errorInfo, errorClass, command, attempts, cause });
          }
          // Unchanged credentials: the key is simply wrong. Retrying would only feed the 70050 lockout.
          if (creds === undefined || sameKey(fresh, creds)) throw error;
          pinned = fresh;
          this.#sig.invalidate();
          continue;
        }
        case 'rate-limited':
          limiter.penalize();
          await this.#backoff(error, attempts, firstStart, deadlineMs);
          continue;
        case 'transient':
          await this.#backoff(error, attempts, firstStart, deadlineMs);
          continue;
        default:
          throw error;
      }
    }
  }

  /** `im_set_attr` uses the configured limiter (this copy's share); other commands one each at the same pace. */
  #limiterFor(command: string): RateLimiter {
    if (command === IM_COMMANDS.setAttr) return this.#limiter;
    let limiter = this.#otherLimiters.get(command);
    if (limiter === undefined) {
      limiter = new RateLimiter({ ratePerSecond: this.#limiter.configuredRate });
      this.#otherLimiters.set(command, limiter);
    }
    return limiter;
  }

  /** Closes pooled connections. The client must not be used afterwards. */
  close(): void {
    this.#transport.close();
  }

  /** Sleeps before a retry, or throws when the retry budget or the deadline leaves no room for one. */
  async #backoff(error: ImError, attempts: number, firstStart: number, deadlineMs: number | undefined): Promise<void> {
    let delay = this.#retry.nextDelayMs(attempts, this.#now() - firstStart);
    if (delay === undefined) throw error;
    if (deadlineMs !== undefined) {
      // Sleeping past the last moment an attempt can still start would only waste the remaining time.
      const latestStart = deadlineMs - this.#timeoutMs - this.#now();
      if (latestStart < 0) throw new DeadlineError(error.command, attempts, deadlineMs, error);
      delay = Math.min(delay, latestStart);
    }
    await this.#retry.sleep(delay);
  }

  /**
   * Re-reads the credentials after a signature-wrong answer. When another call already started a re-read
   * after this attempt read its credentials, that re-read is shared instead of starting another.
   */
  #reread(generationAtAttempt: number): Promise<ImCredentials> {
    if (this.#refreshGeneration !== generationAtAttempt && this.#lastRefresh !== undefined) return this.#lastRefresh;
    this.#refreshGeneration += 1;
    const refresh = this.#credentials.refresh();
    this.#lastRefresh = refresh;
    this.#refreshing = refresh;
    const clear = () => {
      if (this.#refreshing === refresh) this.#refreshing = undefined;
    };
    refresh.then((creds) => {
      this.#confirmed = { creds, at: this.#now() };
      clear();
    }, clear);
    return refresh;
  }
}
