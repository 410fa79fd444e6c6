/** The options of `tim-attr dlq` commands, as commander hands them to the actions. */
import type { CommonOptions } from '../context.ts';

export interface ReadOptions extends CommonOptions {
  readonly rule?: string;
  readonly max: number;
}
export interface ReplayOptions extends ReadOptions {
  readonly verify?: boolean;
  readonly includeAbsent?: boolean;
  readonly rate: number;
}
export interface PurgeOptions extends CommonOptions {
  readonly yes?: boolean;
}
