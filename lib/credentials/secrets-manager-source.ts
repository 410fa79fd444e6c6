import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { readSecretString } from './read-secret.ts';
import { parseSecret } from './secret-schema.ts';
import type { CredentialSource, ImCredentials } from './types.ts';

export interface SecretsManagerSourceOptions {
  readonly client: SecretsManagerClient;
  readonly secretId: string;
  /**
   * How long a read is trusted. Default 300 s: short enough that a rotation reaches every warm copy within
   * minutes, long enough that a busy worker fleet makes a handful of GetSecretValue calls per hour, not per
   * invocation. A signature-wrong answer forces a re-read at once (see `refresh`).
   */
  readonly cacheTtlSeconds?: number;
  /**
   * How long before a read's expiry a new read starts in the background, while callers keep the cached value.
   * Default a fifth of the TTL (60 s at 300 s): calls never wait on Secrets Manager while the secret answers.
   */
  readonly refreshAheadSeconds?: number;
  readonly now?: () => number;
}

/** After a background read failed, the next one waits this long: a failing Secrets Manager is not hammered. */
const BACKGROUND_RETRY_MS = 5_000;

/**
 * Admin credentials from AWS Secrets Manager, cached with a deliberate lifetime; reads are single-flight.
 * A read is renewed ahead of its expiry, off the call path: an IM call never waits for Secrets Manager while a
 * value it may use is cached (a call that waited would leave late, bunched with the calls granted meanwhile).
 * Past the TTL the cached value is still served for one more TTL while a read is under way (a slow or failing
 * Secrets Manager does not stall the calls); beyond that, callers wait for a read.
 */
export class SecretsManagerSource implements CredentialSource {
  readonly #client: SecretsManagerClient;
  readonly #secretId: string;
  readonly #ttlMs: number;
  readonly #aheadMs: number;
  readonly #now: () => number;
  #backgroundFailedAt = Number.NEGATIVE_INFINITY;
  #cached: { value: ImCredentials; readAt: number } | undefined;
  #inFlight: Promise<ImCredentials> | undefined;

  constructor(options: SecretsManagerSourceOptions) {
    this.#client = options.client;
    this.#secretId = options.secretId;
    this.#ttlMs = (options.cacheTtlSeconds ?? 300) * 1000;
    this.#aheadMs = Math.min(this.#ttlMs, (options.refreshAheadSeconds ?? this.#ttlMs / 5000) * 1000);
    this.#now = options.now ?? Date.now;
  }

  async get(): Promise<ImCredentials> {
    const cached = this.#cached;
    const now = this.#now();
    const age = cached === undefined ? Number.POSITIVE_INFINITY : now - cached.readAt;
    if (cached === undefined || age >= 2 * this.#ttlMs || this.#ttlMs === 0) return this.refresh();
    if (
      age >= this.#ttlMs - this.#aheadMs &&
      this.#inFlight === undefined &&
      now - this.#backgroundFailedAt >= BACKGROUND_RETRY_MS
    ) {
      this.refresh().catch(() => {
        this.#backgroundFailedAt = this.#now();
      });
    }
    return cached.value;
  }

  refresh(): Promise<ImCredentials> {
    // Concurrent callers share one read: a rotation seen by many calls at once must not fan out.
    this.#inFlight ??= this.#read().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #read(): Promise<ImCredentials> {
    const value = parseSecret(await readSecretString(this.#client, this.#secretId, 'credentials secret'));
    this.#cached = { value, readAt: this.#now() };
    return value;
  }
}
