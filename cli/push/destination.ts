import type { PackedMessage } from './message-packer.ts';

/** A position the gateway itself refused when it answered (webhooks answer with their rejected users). */
export interface GatewayRejection {
  readonly position: number;
  readonly To_Account: string | null;
  readonly path: string;
  readonly rule: string;
  readonly reason: string;
}

/** Where a push sends its messages, in order; `send` resolves once every message is accepted, or throws. */
export interface Destination {
  /** For messages: `intake queue …` or `webhook …`. */
  readonly label: string;
  /** How many messages `send` takes at a time. */
  readonly batchSize: number;
  /** Whether its messages may carry tag operations (`UserTags`) beside attribute updates. */
  readonly takesTags: boolean;
  send(messages: readonly PackedMessage[]): Promise<readonly GatewayRejection[]>;
}
