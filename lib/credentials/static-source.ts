import type { CredentialSource, ImCredentials } from './types.ts';

/** Fixed credentials (local runs, from env). `refresh` returns the same: there is nothing to re-read. */
export class StaticCredentialSource implements CredentialSource {
  readonly #value: ImCredentials;
  constructor(value: ImCredentials) {
    this.#value = value;
  }
  get(): Promise<ImCredentials> {
    return Promise.resolve(this.#value);
  }
  refresh(): Promise<ImCredentials> {
    return Promise.resolve(this.#value);
  }
}
