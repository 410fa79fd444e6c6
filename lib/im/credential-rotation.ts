/**
 * What the IM client does about a signature-wrong answer: re-read the credentials once, in case the secret
 * key was rotated, and retry only if they changed. Every refused call counts toward IM's 70050 one-minute
 * lockout, so re-reads are shared between concurrent calls and new attempts wait for one under way.
 */
import type { CredentialSource, ImCredentials } from '../credentials/types.ts';

/**
 * How long a re-read's result stands: within it, a signature-wrong answer for those same credentials fails
 * at once instead of reading the secret again (a wrong key, not a rotation in progress).
 */
const CONFIRMED_WINDOW_MS = 30_000;

/** The credentials an attempt is signed with, and the re-read generation they were read in. */
export interface AttemptCredentials {
  readonly creds: ImCredentials;
  readonly generation: number;
}

/**
 * After a signature-wrong answer: retry once with these (changed) credentials, or fail. `rereadError` is set
 * when the re-read itself failed.
 */
export type RotationDecision =
  { readonly kind: 'retry'; readonly creds: ImCredentials } | { readonly kind: 'fail'; readonly rereadError?: unknown };

const sameKey = (a: ImCredentials, b: ImCredentials): boolean =>
  a.sdkAppId === b.sdkAppId && a.identifier === b.identifier && a.secretKey === b.secretKey;

/** The credential re-read state shared by all calls of one client. */
export class CredentialRotation {
  readonly #source: CredentialSource;
  readonly #now: () => number;
  /** Bumped when a re-read starts, so failures of attempts read before it share it instead of starting another. */
  #generation = 0;
  #lastRefresh: Promise<ImCredentials> | undefined;
  /** The result of the last re-read and when it came: credentials IM refuses after it fail fast. */
  #confirmed: { readonly creds: ImCredentials; readonly at: number } | undefined;
  /** The re-read in progress, if any: new attempts wait for it. */
  #refreshing: Promise<ImCredentials> | undefined;

  /** @param now epoch ms, for the confirmed window */
  constructor(source: CredentialSource, now: () => number) {
    this.#source = source;
    this.#now = now;
  }

  /**
   * The credentials for the next attempt: `pinned` when given (a retry after a rotation goes out with exactly
   * the re-read credentials), else the source's, once any re-read under way has finished.
   */
  async forAttempt(pinned?: ImCredentials): Promise<AttemptCredentials> {
    if (pinned !== undefined) return { creds: pinned, generation: this.#generation };
    // Each attempt with the refused key would feed the 70050 lockout: wait for the re-read's result.
    if (this.#refreshing !== undefined) await this.#refreshing.catch(() => undefined);
    const generation = this.#generation;
    return { creds: await this.#source.get(), generation };
  }

  /** Whether credentials read for an attempt are still the ones to use: no re-read started since, or none under way. */
  isCurrent(read: AttemptCredentials): boolean {
    return read.generation === this.#generation && this.#refreshing === undefined;
  }

  /**
   * Decides what to do after IM refused the signature of an attempt signed with `creds`, read in `generation`.
   * Fails at once when a re-read moments ago already returned these very credentials; otherwise re-reads them
   * (sharing a re-read started since `generation`) and retries only if they changed.
   */
  async decideAfterSignatureWrong(creds: ImCredentials, generation: number): Promise<RotationDecision> {
    const confirmed = this.#confirmed;
    if (confirmed !== undefined && sameKey(confirmed.creds, creds) && this.#now() - confirmed.at < CONFIRMED_WINDOW_MS)
      return { kind: 'fail' };
    let fresh: ImCredentials;
    try {
      fresh = await this.#reread(generation);
    } catch (rereadError) {
      return { kind: 'fail', rereadError };
    }
    // Unchanged credentials: the key is simply wrong, and retrying would only feed the lockout.
    return sameKey(fresh, creds) ? { kind: 'fail' } : { kind: 'retry', creds: fresh };
  }

  #reread(generationAtAttempt: number): Promise<ImCredentials> {
    if (this.#generation !== generationAtAttempt && this.#lastRefresh !== undefined) return this.#lastRefresh;
    this.#generation += 1;
    const refresh = this.#source.refresh();
    this.#lastRefresh = refresh;
    this.#refreshing = refresh;
    const clear = (): void => {
      if (this.#refreshing === refresh) this.#refreshing = undefined;
    };
    refresh.then((creds) => {
      this.#confirmed = { creds, at: this.#now() };
      clear();
    }, clear);
    return refresh;
  }
}
