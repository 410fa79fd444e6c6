import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
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
  readonly now?: () => number;
}

/** Admin credentials from AWS Secrets Manager, cached with a deliberate lifetime; reads are single-flight. */
export class SecretsManagerSource implements CredentialSource {
  readonly #client: SecretsManagerClient;
  readonly #secretId: string;
  readonly #ttlMs: number;
  readonly #now: () => number;
  #cached: { value: ImCredentials; readAt: number } | undefined;
  #inFlight: Promise<ImCredentials> | undefined;

  constructor(options: SecretsManagerSourceOptions) {
    this.#client = options.client;
    this.#secretId = options.secretId;
    this.#ttlMs = (options.cacheTtlSeconds ?? 300) * 1000;
    this.#now = options.now ?? Date.now;
  }

  async get(): Promise<ImCredentials> {
    const cached = this.#cached;
    if (cached !== undefined && this.#now() - cached.readAt < this.#ttlMs) return cached.value;
    return this.refresh();
  }

  refresh(): Promise<ImCredentials> {
    // Concurrent callers share one read: a rotation seen by many calls at once must not fan out.
    this.#inFlight ??= this.#read().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #read(): Promise<ImCredentials> {
    const answer = await this.#client.send(new GetSecretValueCommand({ SecretId: this.#secretId }));
    if (answer.SecretString === undefined) throw new Error('the credentials secret has no SecretString (binary secrets are not supported)');
    const value = parseSecret(answer.SecretString);
    this.#cached = { value, readAt: this.#now() };
    return value;
  }
}
