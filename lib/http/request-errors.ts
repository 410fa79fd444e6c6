/** Whole-request faults found before the request rules run. Each names the field and the rule. */
export class RequestRefusedError extends Error {
  override readonly name = 'RequestRefusedError';
  readonly status: 400 | 413 | 415;
  readonly path: string;
  readonly rule: string;
  constructor(status: 400 | 413 | 415, path: string, rule: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
    this.path = path;
    this.rule = rule;
  }
}
