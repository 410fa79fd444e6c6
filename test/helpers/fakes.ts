/**
 * In-memory fakes of the use cases' ports (lib/core/ports.ts), in the spirit of Powertools' own
 * batch-processor tests: no SQS, no DynamoDB, no IM, only what the ports promise.
 *
 * - `FakeIm`: IM's attribute and tag store behind `Writer`, with scripted faults (a whole call, listed
 *   users, a deadline, a throw). It refuses a call over 100 users and remembers it in `violations`.
 * - `FakeFifoQueue`: a tiny SQS FIFO queue: message groups, deduplication, receive (never a group with a
 *   record in flight), ack, fail with a visibility delay; its `redelivery` is the `Redelivery` port.
 * - `FakeLanes`: the `Lanes` port on a `FakeFifoQueue` (`lane-N` groups), with scripted failures and a
 *   log of every message appended.
 * - `FakeDeadLetters`, `FixedNames`, `FakeRedelivery`, `ParkingWriter`, `FakeClock`, `queueRecord`.
 */
import { DeadlineError, ImError } from '../../lib/im/errors.ts';
import { retryClassOf } from '../../lib/im/classify.ts';
import type { RetryClass } from '../../lib/core/errors.ts';
import { laneGroupId } from '../../lib/core/lanes/lane-of.ts';
import type { LaneMessage } from '../../lib/core/lanes/lane-plan.ts';
import { laneBody, userUpdatesBody } from '../../lib/queue/message-format.ts';
import { MAX_USERS_PER_CALL } from '../../lib/core/rules/constants.ts';
import type { UserAttr, UserAttrRemoval, UserTagList, UserTagOps, UserUpdate } from '../../lib/core/rules/types.ts';
import { MAX_TAGS_PER_ADD_CALL } from '../../lib/core/rules/tag-ops.ts';
import type {
  AttrNames,
  DeadLetter,
  DeadLetters,
  LaneMeta,
  Lanes,
  LaneSource,
  QueueRecord,
  Redelivery,
  WriteOptions,
  WriteOutcome,
  Writer,
} from '../../lib/core/ports.ts';

/** A clock the test moves by hand. */
export class FakeClock {
  #t: number;
  constructor(start = 1_700_000_000_000) {
    this.#t = start;
  }
  readonly now = (): number => this.#t;
  advance(ms: number): void {
    this.#t += ms;
  }
}

/** Lets every pending promise continuation run (the fakes never use timers). */
export const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

// ---------------------------------------------------------------------------------------------- IM

export type CallKind = 'set' | 'remove' | 'add-tags' | 'remove-tags' | 'remove-all-tags';

/** One call IM received, in arrival order. */
export interface ImCall {
  readonly kind: CallKind;
  readonly users:
    readonly UserAttr[] | readonly UserAttrRemoval[] | readonly UserTagList[] | readonly { To_Account: string }[];
  readonly accounts: readonly string[];
  readonly deadlineMs: number | undefined;
  /** 1 for the first call. */
  readonly index: number;
}

/**
 * What IM does to a call instead of applying it.
 * - `error`: the whole call fails with an `ImError` (class from `retryClassOf` unless given); with
 *   `applied`, IM applied it before the error came back (a timeout after the write).
 * - `users`: ErrorList-style partial success: the chosen users fail with `errorCode`, the rest are applied.
 * - `errorList`: the same with a code per account (accounts not in the call are ignored).
 * - `deadline`: the writer's `DeadlineError` (`attempts` 0: nothing was tried).
 * - `throw`: anything else thrown (not an answer from IM).
 */
export type ImFault =
  | {
      readonly kind: 'error';
      readonly errorCode: number;
      readonly errorClass?: RetryClass;
      readonly attempts?: number;
      readonly applied?: boolean;
    }
  | {
      readonly kind: 'users';
      readonly errorCode: number;
      readonly accounts: readonly string[] | ((account: string) => boolean);
    }
  | { readonly kind: 'errorList'; readonly codes: Readonly<Record<string, number>> }
  | { readonly kind: 'deadline'; readonly attempts?: number }
  | { readonly kind: 'throw'; readonly error: unknown };

const COMMANDS: Readonly<Record<CallKind, string>> = {
  set: 'all_member_push/im_set_attr',
  remove: 'all_member_push/im_remove_attr',
  'add-tags': 'all_member_push/im_add_tag',
  'remove-tags': 'all_member_push/im_remove_tag',
  'remove-all-tags': 'all_member_push/im_remove_all_tags',
};
const commandOf = (kind: CallKind): string => COMMANDS[kind];

/** An `ImError` as the IM client throws it. */
export function imError(
  errorCode: number,
  options: { errorClass?: RetryClass; attempts?: number; kind?: CallKind } = {},
): ImError {
  return new ImError({
    errorCode,
    errorInfo: `fake IM error ${errorCode}`,
    errorClass: options.errorClass ?? retryClassOf(errorCode),
    command: commandOf(options.kind ?? 'set'),
    attempts: options.attempts ?? 1,
  });
}

/** IM's user attributes and tags in memory, behind the `Writer` port. */
export class FakeIm implements Writer {
  /** account → name → value. An account with no attribute left is absent. */
  readonly #state = new Map<string, Map<string, string>>();
  /** account → tags. An account with no tag left is absent. */
  readonly #tags = new Map<string, Set<string>>();
  readonly calls: ImCall[] = [];
  /** Calls that broke IM's limits (over 100 users): a test asserts this stays empty. */
  readonly violations: string[] = [];
  #planned: (ImFault | undefined)[] = [];
  #rule: ((call: ImCall) => ImFault | undefined) | undefined;

  /** Faults for the next calls, one per call in arrival order (`undefined`: that call succeeds). */
  plan(...faults: (ImFault | undefined)[]): this {
    this.#planned.push(...faults);
    return this;
  }

  /** A fault for every call the rule picks (after the planned ones are used up). */
  failWhen(rule: ((call: ImCall) => ImFault | undefined) | undefined): this {
    this.#rule = rule;
    return this;
  }

  /** No more faults. */
  heal(): this {
    this.#planned = [];
    this.#rule = undefined;
    return this;
  }

  /** Puts attributes in place as if written earlier (not recorded as a call). */
  seed(account: string, attrs: Readonly<Record<string, string>>): this {
    this.#set(account, attrs);
    return this;
  }

  /** Puts tags in place as if added earlier (not recorded as a call). */
  seedTags(account: string, tags: readonly string[]): this {
    this.#addTags(account, tags);
    return this;
  }

  /** A user's tags, sorted; undefined when they hold none. */
  tagsOf(account: string): string[] | undefined {
    const tags = this.#tags.get(account);
    return tags === undefined ? undefined : [...tags].sort();
  }

  /** Every user's tags, accounts and tags sorted. */
  tagSnapshot(): Record<string, string[]> {
    return Object.fromEntries([...this.#tags.keys()].sort().map((account) => [account, this.tagsOf(account) ?? []]));
  }

  attrsOf(account: string): Record<string, string> | undefined {
    const attrs = this.#state.get(account);
    return attrs === undefined ? undefined : Object.fromEntries(attrs);
  }

  /** The whole store as plain objects, accounts sorted. */
  snapshot(): Record<string, Record<string, string>> {
    return Object.fromEntries(
      [...this.#state.keys()]
        .sort()
        .map((account) => [
          account,
          Object.fromEntries([...(this.#state.get(account) ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
        ]),
    );
  }

  /** How many users each call so far carried, in order. */
  callSizes(): number[] {
    return this.calls.map((c) => c.users.length);
  }

  setAttr(users: readonly UserAttr[], options?: WriteOptions): Promise<WriteOutcome> {
    return this.#write('set', users, options);
  }

  removeAttr(users: readonly UserAttrRemoval[], options?: WriteOptions): Promise<WriteOutcome> {
    return this.#write('remove', users, options);
  }

  addTags(users: readonly UserTagList[], options?: WriteOptions): Promise<WriteOutcome> {
    for (const u of users)
      if (u.Tags.length > MAX_TAGS_PER_ADD_CALL)
        this.violations.push(`im_add_tag with ${u.Tags.length} tags for ${u.To_Account}`);
    return this.#write('add-tags', users, options);
  }

  removeTags(users: readonly UserTagList[], options?: WriteOptions): Promise<WriteOutcome> {
    return this.#write('remove-tags', users, options);
  }

  removeAllTags(accounts: readonly string[], options?: WriteOptions): Promise<WriteOutcome> {
    return this.#write(
      'remove-all-tags',
      accounts.map((To_Account) => ({ To_Account })),
      options,
    );
  }

  async #write(kind: CallKind, users: ImCall['users'], options: WriteOptions | undefined): Promise<WriteOutcome> {
    if (users.length > MAX_USERS_PER_CALL) {
      this.violations.push(`${commandOf(kind)} with ${users.length} users`);
      throw new RangeError(`IM takes at most ${MAX_USERS_PER_CALL} users per call, got ${users.length}`);
    }
    const call: ImCall = {
      kind,
      users,
      accounts: users.map((u) => u.To_Account),
      deadlineMs: options?.deadlineMs,
      index: this.calls.length + 1,
    };
    this.calls.push(call);
    // An IM call is asynchronous: other work may run while it is on the way.
    await Promise.resolve();
    const fault = this.#planned.length > 0 ? this.#planned.shift() : this.#rule?.(call);
    const applyAll = (keep: (account: string) => boolean = () => true): void => {
      for (const user of users) if (keep(user.To_Account)) this.#apply(kind, user);
    };
    if (fault === undefined) {
      applyAll();
      return { failedUsers: [] };
    }
    switch (fault.kind) {
      case 'error':
        if (fault.applied === true) applyAll();
        throw imError(fault.errorCode, {
          kind,
          ...(fault.errorClass === undefined ? {} : { errorClass: fault.errorClass }),
          attempts: fault.attempts ?? 1,
        });
      case 'users': {
        const chosen = fault.accounts;
        const fails = typeof chosen === 'function' ? chosen : (account: string) => chosen.includes(account);
        const failed = new Set(call.accounts.filter((account) => fails(account)));
        applyAll((account) => !failed.has(account));
        return {
          failedUsers: [...failed].map((To_Account) => ({
            To_Account,
            errorCode: fault.errorCode,
            errorClass: retryClassOf(fault.errorCode),
          })),
        };
      }
      case 'errorList': {
        const failed = call.accounts.filter((account) => Object.hasOwn(fault.codes, account));
        applyAll((account) => !failed.includes(account));
        return {
          failedUsers: failed.map((To_Account) => {
            const errorCode = fault.codes[To_Account] as number;
            return { To_Account, errorCode, errorClass: retryClassOf(errorCode) };
          }),
        };
      }
      case 'deadline':
        throw new DeadlineError(commandOf(kind), fault.attempts ?? 0, options?.deadlineMs ?? 0);
      case 'throw':
        throw fault.error;
    }
  }

  #apply(kind: CallKind, user: ImCall['users'][number]): void {
    const account = user.To_Account;
    if (kind === 'set') this.#set(account, (user as UserAttr).Attrs);
    else if (kind === 'remove') this.#remove(account, (user as UserAttrRemoval).Attrs);
    else if (kind === 'add-tags') this.#addTags(account, (user as UserTagList).Tags);
    else if (kind === 'remove-all-tags') this.#tags.delete(account);
    else {
      const held = this.#tags.get(account);
      for (const tag of (user as UserTagList).Tags) held?.delete(tag);
      if (held?.size === 0) this.#tags.delete(account);
    }
  }

  #addTags(account: string, tags: readonly string[]): void {
    if (tags.length === 0) return;
    let held = this.#tags.get(account);
    if (held === undefined) this.#tags.set(account, (held = new Set()));
    for (const tag of tags) held.add(tag);
  }

  #set(account: string, attrs: Readonly<Record<string, string>>): void {
    let current = this.#state.get(account);
    if (current === undefined) this.#state.set(account, (current = new Map()));
    for (const [name, value] of Object.entries(attrs)) {
      if (typeof value !== 'string') this.violations.push(`set ${account}.${name} to a ${typeof value}`);
      current.set(name, value);
    }
  }

  #remove(account: string, names: readonly string[]): void {
    const current = this.#state.get(account);
    if (current === undefined) return;
    for (const name of names) current.delete(name);
    if (current.size === 0) this.#state.delete(account);
  }
}

/**
 * A writer that holds every call until the test releases it: an early write landing at a chosen moment.
 * A released call goes to `target` (with whatever faults it has then).
 */
export class ParkingWriter implements Writer {
  readonly #target: Writer;
  readonly #parked: { readonly kind: CallKind; readonly accounts: readonly string[]; readonly run: () => void }[] = [];

  constructor(target: Writer) {
    this.#target = target;
  }

  /** Calls waiting to be released. */
  get parked(): number {
    return this.#parked.length;
  }

  setAttr(users: readonly UserAttr[], options?: WriteOptions): Promise<WriteOutcome> {
    return this.#park('set', users, () => this.#target.setAttr(users, options));
  }

  removeAttr(users: readonly UserAttrRemoval[], options?: WriteOptions): Promise<WriteOutcome> {
    return this.#park('remove', users, () => this.#target.removeAttr(users, options));
  }

  addTags(users: readonly UserTagList[], options?: WriteOptions): Promise<WriteOutcome> {
    return this.#park('add-tags', users, () => this.#target.addTags(users, options));
  }

  removeTags(users: readonly UserTagList[], options?: WriteOptions): Promise<WriteOutcome> {
    return this.#park('remove-tags', users, () => this.#target.removeTags(users, options));
  }

  removeAllTags(accounts: readonly string[], options?: WriteOptions): Promise<WriteOutcome> {
    return this.#park(
      'remove-all-tags',
      accounts.map((To_Account) => ({ To_Account })),
      () => this.#target.removeAllTags(accounts, options),
    );
  }

  /** Sends the parked call at `index` (default the oldest) on to the target; false when none is parked. */
  release(index = 0): boolean {
    const [call] = this.#parked.splice(index, 1);
    call?.run();
    return call !== undefined;
  }

  /** Sends every parked call on, oldest first; returns how many. */
  releaseAll(): number {
    let n = 0;
    while (this.release()) n++;
    return n;
  }

  #park(
    kind: CallKind,
    users: readonly { To_Account: string }[],
    send: () => Promise<WriteOutcome>,
  ): Promise<WriteOutcome> {
    return new Promise((resolve, reject) => {
      this.#parked.push({
        kind,
        accounts: users.map((u) => u.To_Account),
        run: () => void send().then(resolve, reject),
      });
    });
  }
}

// ------------------------------------------------------------------------------------- names, DLQ

/** The registered attribute names, or undefined (IM enforces them itself). */
export class FixedNames implements AttrNames {
  readonly #names: ReadonlySet<string> | undefined;
  constructor(names?: readonly string[]) {
    this.#names = names === undefined ? undefined : new Set(names);
  }
  async current(): Promise<ReadonlySet<string> | undefined> {
    return this.#names;
  }

  known(): boolean {
    return true;
  }

  refresh(): Promise<ReadonlySet<string> | undefined> {
    return this.current();
  }

  reads(): undefined {
    return undefined;
  }
}

/** Collects dead letters; can be made to throw (the letters of a failed send are not kept). */
export class FakeDeadLetters implements DeadLetters {
  readonly letters: DeadLetter[] = [];
  /** Every `send` call, failed ones included. */
  sends = 0;
  #failures = 0;
  #always = false;

  /** The next `count` sends throw. */
  failNext(count = 1): this {
    this.#failures += count;
    return this;
  }

  /** Every send throws until called with false. */
  failAlways(on = true): this {
    this.#always = on;
    return this;
  }

  /** No more failures. */
  heal(): this {
    this.#failures = 0;
    this.#always = false;
    return this;
  }

  async send(letters: readonly DeadLetter[]): Promise<void> {
    this.sends++;
    await Promise.resolve();
    if (this.#always || this.#failures > 0) {
      if (this.#failures > 0) this.#failures--;
      throw new Error('the fake dead-letter queue is unavailable');
    }
    this.letters.push(...letters);
  }

  /** The rule of every letter, in order. */
  rules(): string[] {
    return this.letters.map((l) => l.why.rule);
  }
}

// ---------------------------------------------------------------------------------- redelivery

/** Records every `retryLater`; can be made to throw. `onRetry` lets a queue simulator act on it. */
export class FakeRedelivery implements Redelivery {
  readonly calls: { readonly ids: readonly string[]; readonly delaySeconds: number }[] = [];
  #failures = 0;
  readonly #onRetry: ((records: readonly QueueRecord[], delaySeconds: number) => void) | undefined;

  constructor(onRetry?: (records: readonly QueueRecord[], delaySeconds: number) => void) {
    this.#onRetry = onRetry;
  }

  failNext(count = 1): this {
    this.#failures += count;
    return this;
  }

  heal(): this {
    this.#failures = 0;
    return this;
  }

  async retryLater(records: readonly QueueRecord[], delaySeconds: number): Promise<void> {
    await Promise.resolve();
    if (this.#failures > 0) {
      this.#failures--;
      throw new Error('the fake queue could not change the visibility');
    }
    this.calls.push({ ids: records.map((r) => r.id), delaySeconds });
    this.#onRetry?.(records, delaySeconds);
  }

  /** The delay set for a record id (the last one), or undefined. */
  delayOf(id: string): number | undefined {
    return this.calls.findLast((c) => c.ids.includes(id))?.delaySeconds;
  }
}

// ------------------------------------------------------------------------------------ FIFO queue

/** A message of the fake queue. */
export interface QueuedMessage {
  readonly id: string;
  readonly group: string;
  readonly body: string;
  readonly requestId: string;
  readonly dedupId: string | undefined;
  readonly sentAt: number;
  receiveCount: number;
  firstReceivedAt: number | undefined;
  /** Epoch ms from which it can be received again. */
  visibleAt: number;
  /** Set while the message is in flight (received, not yet acknowledged or failed). */
  receipt: string | undefined;
  /** The delay `retryLater` chose for the current delivery, used when it is failed. */
  retryDelaySeconds: number | undefined;
}

export interface ReceiveOptions {
  /** At most this many records: 10 for a FIFO event source mapping. */
  readonly max?: number;
  /**
   * An integer in [0, n): makes the batch random (size, which groups, how many of each, interleaving),
   * each group's records still in group order. Without it: every ready group in order, as many as fit.
   */
  readonly random?: (n: number) => number;
}

export interface FakeFifoQueueOptions {
  readonly now?: () => number;
  /** The queue's visibility timeout: how long a failed record stays hidden when no backoff was set. */
  readonly visibilityTimeoutSeconds?: number;
  /** SQS deduplicates ids for 5 minutes. */
  readonly dedupWindowMs?: number;
  readonly name?: string;
}

/**
 * A tiny SQS FIFO queue as Lambda's event source mapping drives it: `receive` returns records of ready
 * groups (several per group possible, in group order; never a group with a record in flight or a head
 * still hidden), `settle` acknowledges the records not reported failed and hides the failed ones for the
 * backoff set through `redelivery` (else the visibility timeout).
 */
export class FakeFifoQueue {
  readonly name: string;
  readonly redelivery: FakeRedelivery;
  /** Acknowledged (deleted) messages, in order. */
  readonly deleted: QueuedMessage[] = [];
  readonly #deletedReceipts = new Set<string>();
  readonly #now: () => number;
  readonly #visibilityMs: number;
  readonly #dedupWindowMs: number;
  readonly #messages: QueuedMessage[] = [];
  readonly #dedup = new Map<string, number>();
  #seq = 0;

  constructor(options: FakeFifoQueueOptions = {}) {
    this.name = options.name ?? 'queue';
    this.#now = options.now ?? Date.now;
    this.#visibilityMs = (options.visibilityTimeoutSeconds ?? 30) * 1000;
    this.#dedupWindowMs = options.dedupWindowMs ?? 300_000;
    this.redelivery = new FakeRedelivery((records, delaySeconds) => {
      for (const record of records) this.#inFlight(record).retryDelaySeconds = delaySeconds;
    });
  }

  /** Adds a message to its group; a deduplication id seen within the window adds nothing (returns undefined). */
  send(message: {
    readonly group: string;
    readonly body: string;
    readonly requestId?: string;
    readonly dedupId?: string;
  }): QueuedMessage | undefined {
    const now = this.#now();
    if (message.dedupId !== undefined) {
      const seen = this.#dedup.get(message.dedupId);
      if (seen !== undefined && now - seen < this.#dedupWindowMs) return undefined;
      this.#dedup.set(message.dedupId, now);
    }
    const id = `${this.name}-msg-${++this.#seq}`;
    const queued: QueuedMessage = {
      id,
      group: message.group,
      body: message.body,
      requestId: message.requestId ?? id,
      dedupId: message.dedupId,
      sentAt: now,
      receiveCount: 0,
      firstReceivedAt: undefined,
      visibleAt: now,
      receipt: undefined,
      retryDelaySeconds: undefined,
    };
    this.#messages.push(queued);
    return queued;
  }

  /** Messages still in the queue (in flight or not), in send order; of one group when given. */
  messages(group?: string): readonly QueuedMessage[] {
    return group === undefined ? [...this.#messages] : this.#messages.filter((m) => m.group === group);
  }

  get size(): number {
    return this.#messages.length;
  }

  /** When the next hidden message becomes visible, or undefined when none is hidden. */
  nextVisibleAt(): number | undefined {
    const now = this.#now();
    const hidden = this.#messages.filter((m) => m.receipt === undefined && m.visibleAt > now).map((m) => m.visibleAt);
    return hidden.length === 0 ? undefined : Math.min(...hidden);
  }

  receive(options: ReceiveOptions = {}): QueueRecord[] {
    const now = this.#now();
    const max = Math.max(1, options.max ?? 10);
    // Ready groups: nothing in flight, head visible; their visible run of messages from the head.
    const groups = new Map<string, QueuedMessage[]>();
    for (const m of this.#messages) {
      let list = groups.get(m.group);
      if (list === undefined) groups.set(m.group, (list = []));
      list.push(m);
    }
    const runs = new Map<string, QueuedMessage[]>();
    for (const [group, list] of groups) {
      if (list.some((m) => m.receipt !== undefined)) continue;
      const run: QueuedMessage[] = [];
      for (const m of list) {
        if (m.visibleAt > now) break;
        run.push(m);
      }
      if (run.length > 0) runs.set(group, run);
    }
    const taken: QueuedMessage[] = [];
    const random = options.random;
    if (random === undefined) {
      for (const run of runs.values()) for (const m of run) if (taken.length < max) taken.push(m);
    } else {
      const total = [...runs.values()].reduce((n, r) => n + r.length, 0);
      let target = Math.min(total, 1 + random(max));
      const open = [...runs.values()].map((run) => [...run]);
      // Groups join the batch at random; once a group stops, nothing more of it this time.
      while (target > 0 && open.length > 0) {
        const g = random(open.length);
        const run = open[g] as QueuedMessage[];
        taken.push(run.shift() as QueuedMessage);
        target--;
        if (run.length === 0 || random(4) === 0) open.splice(g, 1);
      }
    }
    return taken.map((m) => {
      m.receiveCount++;
      m.firstReceivedAt ??= now;
      m.receipt = `${m.id}#${m.receiveCount}`;
      m.retryDelaySeconds = undefined;
      return this.#record(m);
    });
  }

  /**
   * Deletes records (their receipt must be current). A record deleted already with the same receipt is a no-op, as
   * SQS answers a repeated delete within the visibility timeout (the worker deletes its event batch's finished
   * records itself, and Lambda deletes them again).
   */
  ack(records: readonly QueueRecord[]): void {
    for (const record of records) {
      if (this.#deletedWith(record)) continue;
      const m = this.#inFlight(record);
      this.#messages.splice(this.#messages.indexOf(m), 1);
      this.#deletedReceipts.add(record.receipt);
      m.receipt = undefined;
      this.deleted.push(m);
    }
  }

  /** Hides records for `delaySeconds`, else the backoff `retryLater` set, else the visibility timeout. */
  fail(records: readonly QueueRecord[], delaySeconds?: number): void {
    const now = this.#now();
    for (const record of records) {
      const m = this.#inFlight(record);
      const seconds = delaySeconds ?? m.retryDelaySeconds;
      m.visibleAt = now + (seconds === undefined ? this.#visibilityMs : seconds * 1000);
      m.receipt = undefined;
      m.retryDelaySeconds = undefined;
    }
  }

  /** What Lambda does with a partial batch response: failed records stay, the rest are deleted. */
  settle(records: readonly QueueRecord[], failedIds: readonly string[]): void {
    const failed = new Set(failedIds);
    this.ack(records.filter((r) => !failed.has(r.id)));
    this.fail(records.filter((r) => failed.has(r.id)));
  }

  /** An invocation that died: nothing is deleted, every record comes back after the visibility timeout. */
  abandon(records: readonly QueueRecord[]): void {
    const now = this.#now();
    for (const record of records) {
      // Deleted before the invocation died: nothing comes back.
      if (this.#deletedWith(record)) continue;
      const m = this.#inFlight(record);
      m.visibleAt = now + this.#visibilityMs;
      m.receipt = undefined;
      m.retryDelaySeconds = undefined;
    }
  }

  /** Whether the record was deleted with its receipt (a repeated delete, or a crash after the delete). */
  #deletedWith(record: QueueRecord): boolean {
    return this.#deletedReceipts.has(record.receipt);
  }

  #inFlight(record: QueueRecord): QueuedMessage {
    const m = this.#messages.find((x) => x.id === record.id);
    if (m === undefined || m.receipt !== record.receipt)
      throw new Error(`${this.name}: receipt ${record.receipt} of ${record.id} is not current`);
    return m;
  }

  #record(m: QueuedMessage): QueueRecord {
    return {
      id: m.id,
      receipt: m.receipt ?? '',
      group: m.group,
      body: m.body,
      receiveCount: m.receiveCount,
      firstReceivedAt: m.firstReceivedAt ?? this.#now(),
      requestId: m.requestId,
    };
  }
}

// ----------------------------------------------------------------------------------------- lanes

/** A lane message the fake lanes took (a duplicate id is not appended). */
export interface LaneAppend {
  readonly messageId: string;
  readonly lane: number;
  readonly position: number;
  readonly dedupId: string;
  readonly requestId: string;
  readonly origin: string;
  readonly users: readonly UserUpdate[];
  /** A tags message's entries (empty for an attributes message). */
  readonly tags: readonly UserTagOps[];
}

/**
 * The `Lanes` port on a `FakeFifoQueue`: each lane a message group `lane-N`, deduplicated by `dedupId`.
 * A message chosen by `failWhen`/`failNext` is not written, and its lane stops there, as the port says.
 */
/**
 * The worker's own receives on a fake FIFO queue (`LaneSource`): `receive` as the queue hands out records, `delete`
 * acknowledges them. Deletes can be made to fail (the records stay in flight, as SQS keeps them until their
 * visibility timeout); every record received is kept in `received`.
 */
export class FakeLaneSource implements LaneSource {
  readonly received: QueueRecord[] = [];
  receives = 0;
  /** Records whose delete failed: still in flight. */
  readonly undeleted: QueueRecord[] = [];
  #failDeletes: (record: QueueRecord) => boolean = () => false;
  readonly #queue: FakeFifoQueue;
  readonly #random: ((n: number) => number) | undefined;

  constructor(queue: FakeFifoQueue, random?: (n: number) => number) {
    this.#queue = queue;
    this.#random = random;
  }

  /** Deletes of the records chosen fail from now on. */
  failDeletesWhen(rule: (record: QueueRecord) => boolean): this {
    this.#failDeletes = rule;
    return this;
  }

  receive(max: number): Promise<readonly QueueRecord[]> {
    this.receives++;
    const records = this.#queue.receive({ max, ...(this.#random === undefined ? {} : { random: this.#random }) });
    this.received.push(...records);
    return Promise.resolve(records);
  }

  delete(records: readonly QueueRecord[]): Promise<readonly string[]> {
    const failing = records.filter((r) => this.#failDeletes(r));
    this.undeleted.push(...failing);
    this.#queue.ack(records.filter((r) => !failing.includes(r)));
    return Promise.resolve(failing.map((r) => r.id));
  }
}

export class FakeLanes implements Lanes {
  readonly queue: FakeFifoQueue;
  /** Every message appended, in order. */
  readonly appended: LaneAppend[] = [];
  /** Every `enqueue` call. */
  readonly calls: { readonly messages: readonly LaneMessage[]; readonly meta: LaneMeta }[] = [];
  #rule: ((message: LaneMessage, meta: LaneMeta) => boolean) | undefined;
  #failures = 0;
  #throws: { readonly error: unknown; readonly afterWriting: boolean }[] = [];

  constructor(options: FakeFifoQueueOptions & { readonly queue?: FakeFifoQueue } = {}) {
    this.queue = options.queue ?? new FakeFifoQueue({ name: 'lanes', ...options });
  }

  /** Messages the rule picks are not written (their lane stops there). */
  failWhen(rule: ((message: LaneMessage, meta: LaneMeta) => boolean) | undefined): this {
    this.#rule = rule;
    return this;
  }

  /** The next `count` messages offered are not written. */
  failNext(count = 1): this {
    this.#failures += count;
    return this;
  }

  /**
   * The next `enqueue` throws `error`; with `afterWriting`, only once it has written what it could
   * (nothing is then known to the caller, though some messages are in their lanes).
   */
  throwNext(error: unknown = new Error('the fake lanes are unavailable'), afterWriting = false): this {
    this.#throws.push({ error, afterWriting });
    return this;
  }

  heal(): this {
    this.#rule = undefined;
    this.#failures = 0;
    this.#throws = [];
    return this;
  }

  async enqueue(messages: readonly LaneMessage[], meta: LaneMeta): Promise<readonly LaneMessage[]> {
    this.calls.push({ messages, meta });
    await Promise.resolve();
    const throwing = this.#throws.shift();
    if (throwing !== undefined && !throwing.afterWriting) throw throwing.error;
    const stopped = new Set<number>();
    const unsent: LaneMessage[] = [];
    for (const message of messages) {
      if (stopped.has(message.lane)) {
        unsent.push(message);
        continue;
      }
      const fails = this.#failures > 0 || (this.#rule?.(message, meta) ?? false);
      if (this.#failures > 0) this.#failures--;
      if (fails) {
        stopped.add(message.lane);
        unsent.push(message);
        continue;
      }
      const sent = this.queue.send({
        group: laneGroupId(message.lane),
        body: laneBody(message),
        requestId: meta.requestId,
        dedupId: message.dedupId,
      });
      if (sent !== undefined) {
        this.appended.push({
          messageId: sent.id,
          lane: message.lane,
          position: message.position,
          dedupId: message.dedupId,
          requestId: meta.requestId,
          origin: meta.origin,
          users: message.users,
          tags: message.tags ?? [],
        });
      }
    }
    if (throwing !== undefined) throw throwing.error;
    return unsent;
  }

  /** The users queued in a lane (not yet acknowledged), in lane order. */
  queuedUsers(lane: number): UserUpdate[] {
    return this.queue
      .messages(laneGroupId(lane))
      .flatMap((m) => (JSON.parse(m.body) as { UserAttrs: UserUpdate[] }).UserAttrs);
  }
}

// ------------------------------------------------------------------------------------- records

let recordSeq = 0;

/** A queue record for calling a use case directly; `users` become the `{"UserAttrs":[...]}` body. */
export function queueRecord(options: {
  readonly users?: readonly unknown[];
  readonly body?: string;
  readonly group?: string;
  readonly id?: string;
  readonly receiveCount?: number;
  readonly firstReceivedAt?: number;
  readonly requestId?: string;
}): QueueRecord {
  const id = options.id ?? `rec-${++recordSeq}`;
  return {
    id,
    receipt: `receipt-${id}`,
    group: options.group ?? 'lane-0',
    body: options.body ?? userUpdatesBody(options.users ?? []),
    receiveCount: options.receiveCount ?? 1,
    firstReceivedAt: options.firstReceivedAt ?? Date.now(),
    requestId: options.requestId ?? `req-${id}`,
  };
}

/** A small deterministic PRNG (mulberry32): random choices a property test can replay from a seed. */
export function prng(seed: number): { next: () => number; int: (n: number) => number; chance: (p: number) => boolean } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n), chance: (p) => next() < p };
}
