// dynalite 4 ships no types: the part this project uses (index.js's JSDoc, typed).
declare module 'dynalite' {
  import type { Server } from 'node:http';

  export interface DynaliteOptions {
    /** How long a new table stays CREATING, ms (default 500). */
    readonly createTableMs?: number;
    readonly deleteTableMs?: number;
    readonly updateTableMs?: number;
    readonly maxItemSizeKb?: number;
    /** A LevelDB directory; in memory when unset. */
    readonly path?: string;
    readonly verbose?: boolean;
    readonly debug?: boolean;
  }

  /** An HTTP server speaking the DynamoDB API; `close()` also closes its store. */
  export default function dynalite(options?: DynaliteOptions): Server;
}
