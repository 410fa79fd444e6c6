import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { readSecretString } from './read-secret.ts';
import { parseWebhookSecret } from './secret-schema.ts';

export interface WebhookSecretSourceOptions {
  readonly client: SecretsManagerClient;
  readonly secretId: string;
  /** How long a read is trusted. Default 300 s, as for the IM credentials: a rotation reaches every copy in minutes. */
  readonly cacheTtlSeconds?: number;
  readonly now?: () => number;
}

/**
 * The Standard Webhooks secret (`whsec_…`), from a Secrets Manager secret of its own: only the API function may
 * read it, and the worker, which never checks a signature, cannot. Reads are cached and single-flight.
 */
export class WebhookSecretSource {
  readonly #client: SecretsManagerClient;
  readonly #secretId: string;
  readonly #ttlMs: number;
  readonly #now: () => number;
  #cached: { readonly value: string; readonly readAt: number } | undefined;
  #inFlight: Promise<string> | undefined;

  constructor(options: WebhookSecretSourceOptions) {
    this.#client = options.client;
    this.#secretId = options.secretId;
    this.#ttlMs = (options.cacheTtlSeconds ?? 300) * 1000;
    this.#now = options.now ?? Date.now;
  }

  get(): Promise<string> {
    const cached = this.#cached;
    if (cached !== undefined && this.#now() - cached.readAt < this.#ttlMs) return Promise.resolve(cached.value);
    this.#inFlight ??= this.#read().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #read(): Promise<string> {
    const value = parseWebhookSecret(await readSecretString(this.#client, this.#secretId, 'webhook secret'));
    this.#cached = { value, readAt: this.#now() };
    return value;
  }
}
