/** The admin credentials of one IM app, as stored in the Secrets Manager secret. */
export interface ImCredentials {
  readonly sdkAppId: number;
  /** An App admin account. */
  readonly identifier: string;
  /** The console secret key that signs UserSigs. */
  readonly secretKey: string;
  /** The Standard Webhooks secret (`whsec_…`) that authenticates incoming webhooks, when webhooks are signed. */
  readonly webhookSecret?: string;
}

/** Where credentials come from: cached reads, and a forced re-read after a signature-wrong answer (rotation). */
export interface CredentialSource {
  /** The current credentials, from cache while fresh. */
  get(): Promise<ImCredentials>;
  /** Reads the credentials anew, bypassing the cache (single-flight). */
  refresh(): Promise<ImCredentials>;
}
