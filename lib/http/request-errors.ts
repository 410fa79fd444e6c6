/** Stable names of the faults that refuse a whole request before the request rules run. */
import { GatewayError } from '../core/errors.ts';
export type RequestRule =
  'body-max-bytes' | 'event-max-bytes' | 'content-type-must-be-json' | 'body-must-be-json' | 'idempotency-key-format';

/** Whole-request faults found before the request rules run. Each names the field and the rule. */
export class RequestRefusedError extends GatewayError {
  override name = 'RequestRefusedError';
  readonly status: 400 | 413 | 415;
  readonly path: string;
  readonly rule: RequestRule;
  constructor(status: 400 | 413 | 415, path: string, rule: RequestRule, message: string, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
    this.path = path;
    this.rule = rule;
  }
}
