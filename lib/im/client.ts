/**
 * The IM REST client: every call is paced (rate and concurrency), signed, classified by its body's
 * ErrorCode (doc 269/1671) and retried according to its class.
 *
 * - transient / rate-limited: retried with full-jitter backoff, bounded; rate-limited also penalizes the limiter.
 * - signature-stale: the UserSig is invalidated and the call retried once.
 * - signature-wrong: the credentials are re-read once (key rotation); the call is retried once only if
 *   they changed, otherwise it fails at once. Hammering would trigger IM's 70050 one-minute lockout.
 * - permanent: thrown at once.
 */
import { ConcurrencyLimiter, DEFAULT_MAX_IN_FLIGHT } from '../pacing/concurrency-limiter.ts';
import type { CallPacer, StartTicket } from '../pacing/call-pacer.ts';
import { processPacerFor, type PacerFor } from '../pacing/pacer-for.ts';
import { RetryPolicy } from '../pacing/retry-policy.ts';
import type { RetryOptions } from '../pacing/retry-policy.ts';
import type { CredentialSource, ImCredentials } from '../credentials/types.ts';
import { MAX_USERS_PER_CALL } from '../core/rules/constants.ts';
import type { UserAttr, UserAttrRemoval } from '../core/rules/types.ts';
import { AdminSigCache } from '../usersig/admin-sig-cache.ts';
import { classifyErrorCode, retryClassOf } from './classify.ts';
import { CredentialRotation } from './credential-rotation.ts';
import type { AttemptCredentials } from './credential-rotation.ts';
import { TRANSPORT_ERROR_CODES } from './error-codes.ts';
import { DeadlineError, ImError } from './errors.ts';
import { ImTransport } from './transport.ts';
import type { TransportResult } from './transport.ts';
import type { UserSigProvider } from '../usersig/sig-provider.ts';
import type { AttemptEvent, ImResponseBody, ImUserError } from './types.ts';
import type { FailedUser, WriteOptions, WriteOutcome } from '../core/ports.ts';

/** The commands this client wraps, as `service/command`. */
export const IM_COMMANDS = {
  setAttr: 'all_member_push/im_set_attr',
  getAttr: 'all_member_push/im_get_attr',
  removeAttr: 'all_member_push/im_remove_attr',
  setAttrName: 'all_member_push/im_set_attr_name',
  getAttrName: 'all_member_push/im_get_attr_name',
  getTag: 'all_member_push/im_get_tag',
  addTag: 'all_member_push/im_add_tag',
  removeTag: 'all_member_push/im_remove_tag',
  removeAllTags: 'all_member_push/im_remove_all_tags',
} as const;

/** A user's tags as IM holds them. */
export interface UserTags {
  readonly To_Account: string;
  readonly Tags: readonly string[];
}

/** Options of {@link ImClient}. */
export interface ImClientOptions {
  /** From `resolveEndpoint`: `https://domain`, or the emulator's `http://127.0.0.1:port`. */
  readonly baseUrl: string;
  readonly credentials: CredentialSource;
  /** Default: a new {@link AdminSigCache}. */
  readonly sigProvider?: UserSigProvider;
  /**
   * The pacer of each command (IM limits each separately; lib/pacing/pacer-for.ts decides which).
   * @default the process-wide pacers at IM's 100 calls/s ({@link processPacerFor})
   */
  readonly pacerFor?: PacerFor;
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

function toFailedUsers(list: readonly ImUserError[] | undefined): FailedUser[] {
  return (list ?? [])
    .filter((entry) => entry.ErrorCode !== 0)
    .map((entry) => ({
      To_Account: entry.To_Account,
      errorCode: entry.ErrorCode,
      errorClass: retryClassOf(entry.ErrorCode),
    }));
}

function checkUserCount(command: string, count: number): void {
  if (count > MAX_USERS_PER_CALL)
    throw new RangeError(`IM ${command} takes at most ${MAX_USERS_PER_CALL} users per call, got ${count}`);
}

/** The outcome of one attempt, read from the transport's result. */
interface AttemptResult {
  readonly errorCode: number;
  readonly errorInfo: string;
  readonly body?: ImResponseBody;
  readonly cause?: unknown;
}

function readResult(result: TransportResult): AttemptResult {
  if (result.kind === 'failure')
    return { errorCode: result.errorCode, errorInfo: result.errorInfo, cause: result.cause };
  const { body } = result;
  // Success is ErrorCode 0 with ActionStatus OK; a "FAIL" with code 0 is not trusted as success.
  const errorCode =
    body.ErrorCode !== 0 || body.ActionStatus === 'OK' ? body.ErrorCode : TRANSPORT_ERROR_CODES.invalidResponse;
  return { errorCode, errorInfo: body.ErrorInfo, body };
}

/** One call's state across its attempts. */
interface CallState {
  readonly command: string;
  readonly limiter: CallPacer;
  readonly deadlineMs: number | undefined;
  /** The last moment an attempt may start (epoch ms): from the deadline less an attempt's timeout, and `startByMs`. */
  readonly latestStartMs: number;
  readonly firstStart: number;
  attempts: number;
  /** Re-signed once already after a signature-stale answer. */
  resigned: boolean;
  /** Re-read the credentials once already after a signature-wrong answer. */
  reread: boolean;
  /** The re-read credentials the retry after a rotation must use. */
  pinned: ImCredentials | undefined;
  lastError: ImError | undefined;
}

/** How one attempt ended, and the credentials it was signed with. */
interface Attempt {
  /** The answer body on success, else the error the attempt amounts to. */
  readonly answer: ImResponseBody | ImError;
  readonly credentials: AttemptCredentials;
}

/** A paced, retrying client for the IM `all_member_push` attribute commands. */
export class ImClient {
  readonly #sig: UserSigProvider;
  readonly #rotation: CredentialRotation;
  readonly #pacerFor: PacerFor;
  readonly #concurrency: ConcurrencyLimiter;
  readonly #transport: ImTransport;
  readonly #retry: RetryPolicy;
  readonly #onAttempt: ((event: AttemptEvent) => void) | undefined;
  readonly #now: () => number;
  readonly #timeoutMs: number;

  constructor(options: ImClientOptions) {
    this.#now = options.now ?? Date.now;
    this.#rotation = new CredentialRotation(options.credentials, this.#now);
    this.#sig = options.sigProvider ?? new AdminSigCache();
    this.#pacerFor = options.pacerFor ?? processPacerFor();
    this.#concurrency = new ConcurrencyLimiter(options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
    this.#transport = new ImTransport({
      baseUrl: options.baseUrl,
      timeoutMs: options.timeoutMs,
      maxSockets: options.maxSockets,
    });
    this.#timeoutMs = this.#transport.timeoutMs;
    this.#retry = new RetryPolicy(options.retry);
    this.#onAttempt = options.onAttempt;
  }

  /**
   * Sets attributes of at most 100 users in one call (`im_set_attr`).
   * @throws RangeError on more than 100 users; {@link ImError} when the call fails.
   */
  async setAttr(users: readonly UserAttr[], opts: WriteOptions = {}): Promise<WriteOutcome> {
    checkUserCount(IM_COMMANDS.setAttr, users.length);
    if (users.length === 0) return { failedUsers: [] };
    const body = await this.call(IM_COMMANDS.setAttr, { UserAttrs: users }, opts);
    return { failedUsers: toFailedUsers(body.ErrorList) };
  }

  /** Reads attributes of at most 100 users (`im_get_attr`); users without attributes have `Attrs: {}`. */
  async getAttr(accounts: readonly string[], opts: WriteOptions = {}): Promise<UserAttr[]> {
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

  /** Reads the tags of at most 100 users (`im_get_tag`, doc 269/45940); users without tags have `Tags: []`. */
  async getTags(accounts: readonly string[], opts: WriteOptions = {}): Promise<UserTags[]> {
    checkUserCount(IM_COMMANDS.getTag, accounts.length);
    if (accounts.length === 0) return [];
    const body = await this.call(IM_COMMANDS.getTag, { To_Account: accounts }, opts);
    const list = Array.isArray(body['UserTags']) ? (body['UserTags'] as unknown[]) : [];
    return list.flatMap((entry): UserTags[] => {
      if (typeof entry !== 'object' || entry === null) return [];
      const { To_Account: account, Tags: tags } = entry as Record<string, unknown>;
      if (typeof account !== 'string') return [];
      return [{ To_Account: account, Tags: Array.isArray(tags) ? tags.filter((t) => typeof t === 'string') : [] }];
    });
  }

  /** Adds tags to at most 100 users, at most 10 tags each (`im_add_tag`, doc 269/45941). */
  async addTags(users: readonly UserTags[], opts: WriteOptions = {}): Promise<WriteOutcome> {
    return this.#tagCall(IM_COMMANDS.addTag, { UserTags: users }, users.length, opts);
  }

  /** Removes tags of at most 100 users (`im_remove_tag`, doc 269/45942). */
  async removeTags(users: readonly UserTags[], opts: WriteOptions = {}): Promise<WriteOutcome> {
    return this.#tagCall(IM_COMMANDS.removeTag, { UserTags: users }, users.length, opts);
  }

  /** Removes every tag of at most 100 users (`im_remove_all_tags`, doc 269/45943). */
  async removeAllTags(accounts: readonly string[], opts: WriteOptions = {}): Promise<WriteOutcome> {
    return this.#tagCall(IM_COMMANDS.removeAllTags, { To_Account: accounts }, accounts.length, opts);
  }

  async #tagCall(command: string, body: unknown, users: number, opts: WriteOptions): Promise<WriteOutcome> {
    checkUserCount(command, users);
    if (users === 0) return { failedUsers: [] };
    return { failedUsers: toFailedUsers((await this.call(command, body, opts)).ErrorList) };
  }

  /** Removes attributes, by name, of at most 100 users (`im_remove_attr`). */
  async removeAttr(users: readonly UserAttrRemoval[], opts: WriteOptions = {}): Promise<WriteOutcome> {
    checkUserCount(IM_COMMANDS.removeAttr, users.length);
    if (users.length === 0) return { failedUsers: [] };
    const body = await this.call(IM_COMMANDS.removeAttr, { UserAttrs: users }, opts);
    return { failedUsers: toFailedUsers(body.ErrorList) };
  }

  /** The registered attribute names (`im_get_attr_name`), in slot order "0".."9". */
  async getAttrNames(opts: WriteOptions = {}): Promise<string[]> {
    return [...(await this.getAttrNameSlots(opts)).values()];
  }

  /** The registered attribute names by slot (`im_get_attr_name`): slot number → name, in slot order; free slots absent. */
  async getAttrNameSlots(opts: WriteOptions = {}): Promise<Map<number, string>> {
    const body = await this.call(IM_COMMANDS.getAttrName, {}, opts);
    const names = body['AttrNames'];
    if (typeof names !== 'object' || names === null) return new Map();
    return new Map(
      Object.entries(names)
        .filter((entry): entry is [string, string] => typeof entry[1] === 'string' && /^\d+$/.test(entry[0]))
        .map(([slot, name]): [number, string] => [Number(slot), name])
        .sort(([a], [b]) => a - b),
    );
  }

  /** Registers attribute names by slot, e.g. `{"0":"sex","1":"city"}` (`im_set_attr_name`). */
  async setAttrNames(names: Readonly<Record<string, string>>, opts: WriteOptions = {}): Promise<void> {
    await this.call(IM_COMMANDS.setAttrName, { AttrNames: names }, opts);
  }

  /**
   * Runs any command (`service/command`) through pacing, signing, classification and retries.
   * @returns the answer body (ErrorCode 0)
   * @throws {@link ImError} when the call fails for good; {@link DeadlineError} when no time is left.
   */
  async call(command: string, body: unknown, opts: WriteOptions = {}): Promise<ImResponseBody> {
    const call: CallState = {
      command,
      limiter: this.#pacerFor(command),
      deadlineMs: opts.deadlineMs,
      latestStartMs: Math.min(
        opts.deadlineMs === undefined ? Number.POSITIVE_INFINITY : opts.deadlineMs - this.#timeoutMs,
        opts.startByMs ?? Number.POSITIVE_INFINITY,
      ),
      firstStart: this.#now(),
      attempts: 0,
      resigned: false,
      reread: false,
      pinned: undefined,
      lastError: undefined,
    };
    for (;;) {
      if (this.#tooLate(call)) throw new DeadlineError(command, call.attempts, call.deadlineMs ?? 0, call.lastError);
      const attempt = await this.#concurrency.run(() => this.#attempt(call, body));
      if (!(attempt.answer instanceof ImError)) return attempt.answer;
      call.lastError = attempt.answer;
      await this.#decide(call, attempt.answer, attempt.credentials);
    }
  }

  /** Whether an attempt may no longer start: it could not finish before the deadline, or `startByMs` is past. */
  #tooLate(call: CallState): boolean {
    return this.#now() > call.latestStartMs;
  }

  /**
   * One attempt, in a concurrency slot: pace (wait for a start), sign and send, classify the answer.
   * @throws {@link DeadlineError} when no start came in time for the attempt to finish before the deadline.
   */
  async #attempt(call: CallState, body: unknown): Promise<Attempt> {
    // Credentials and UserSig are ready before a start is taken: a start is a slot of the fleet's grid, and a
    // read of the secret after it would send the request late, together with every other call granted meanwhile.
    let credentials = await this.#rotation.forAttempt(call.pinned);
    let ticket: StartTicket | undefined;
    for (;;) {
      ticket = await this.#acquire(call);
      if (ticket === undefined || this.#tooLate(call))
        throw new DeadlineError(call.command, call.attempts, call.deadlineMs ?? 0, call.lastError);
      // A re-read after a signature-wrong answer started while this call waited: it must not go out with the
      // refused key (forAttempt waits for the re-read; the start is then taken again if it went stale).
      if (!this.#rotation.isCurrent(credentials)) credentials = await this.#rotation.forAttempt(call.pinned);
      if (ticket.late?.() !== true) break;
    }
    const { creds } = credentials;
    const auth = { sdkAppId: creds.sdkAppId, identifier: creds.identifier, userSig: this.#sig.getUserSig(creds) };
    const started = performance.now();
    const granted = ticket;
    // Sent right after the grant; the ticket then moves the start to when the request really left.
    const result = readResult(await this.#transport.post(call.command, auth, body, { onSent: () => granted.sent() }));
    call.attempts += 1;
    return { answer: this.#classify(call, result, performance.now() - started), credentials };
  }

  /** A start for the call's next attempt; with a deadline, waits only as long as the attempt could still finish. */
  #acquire(call: CallState): Promise<StartTicket | undefined> {
    if (call.latestStartMs === Number.POSITIVE_INFINITY) return call.limiter.acquire();
    return call.limiter.acquire(call.latestStartMs - this.#now());
  }

  /** Reports the attempt; returns the answer body on success, else the error the attempt amounts to. */
  #classify(call: CallState, result: AttemptResult, latencyMs: number): ImResponseBody | ImError {
    const errorClass = classifyErrorCode(result.errorCode);
    this.#onAttempt?.({
      command: call.command,
      errorCode: result.errorCode,
      errorClass,
      latencyMs,
      attempt: call.attempts,
    });
    if (errorClass === 'ok' && result.body !== undefined) return result.body;
    return new ImError({
      errorCode: result.errorCode,
      errorInfo: result.errorInfo,
      // A failure always has a non-zero code (a transport failure a negative pseudo-code).
      errorClass: retryClassOf(result.errorCode),
      command: call.command,
      attempts: call.attempts,
      errorList: result.body?.ErrorList,
      cause: result.cause,
    });
  }

  /**
   * Decides what follows a failed attempt by the error's class: returns (after any backoff) when the call
   * should try again, throws when it must stop.
   */
  async #decide(call: CallState, error: ImError, used: AttemptCredentials): Promise<void> {
    const budgetLeft = call.attempts < this.#retry.maxAttempts;
    switch (error.errorClass) {
      case 'signature-stale':
        if (call.resigned || !budgetLeft) throw error;
        call.resigned = true;
        this.#sig.invalidate();
        return;
      case 'signature-wrong': {
        if (call.reread || !budgetLeft) throw error;
        call.reread = true;
        const decision = await this.#rotation.decideAfterSignatureWrong(used.creds, used.generation);
        if (decision.kind === 'retry') {
          call.pinned = decision.creds;
          this.#sig.invalidate();
          return;
        }
        if (decision.rereadError === undefined) throw error;
        const { errorCode, errorInfo, errorClass, command, attempts } = error;
        throw new ImError({ errorCode, errorInfo, errorClass, command, attempts, cause: decision.rereadError });
      }
      case 'rate-limited':
        call.limiter.penalize();
        await this.#backoff(call, error);
        return;
      case 'transient':
        await this.#backoff(call, error);
        return;
      default:
        throw error;
    }
  }

  /** Closes pooled connections. The client must not be used afterwards. */
  close(): void {
    this.#transport.close();
  }

  /** Sleeps before a retry, or throws when the retry budget or the deadline leaves no room for one. */
  async #backoff(call: CallState, error: ImError): Promise<void> {
    const { attempts, deadlineMs } = call;
    let delay = this.#retry.nextDelayMs(attempts, this.#now() - call.firstStart);
    if (delay === undefined) throw error;
    // Sleeping past the last moment an attempt can still start would only waste the remaining time.
    const latestStart = call.latestStartMs - this.#now();
    if (latestStart < 0) throw new DeadlineError(error.command, attempts, deadlineMs ?? 0, error);
    delay = Math.min(delay, latestStart);
    await this.#retry.sleep(delay);
  }
}
