/**
 * Which pacer each IM command uses, decided here alone. IM limits each command separately (100 calls/s per app,
 * per API), so a copy keeps one pacer per command, made on first ask and shared by everything in the copy that
 * calls that command (the IM client, the early write's idle check, the worker's round announcements).
 */
import type { CallPacer } from './call-pacer.ts';
import { FleetPacer } from './fleet-pacer.ts';
import { LaneSlotFloor } from './lane-slot-floor.ts';
import { RateLimiter } from './rate-limiter.ts';
import type { SlotLedger } from './slot-ledger.ts';

/** The pacer of one IM command; the same instance for every ask of the same command. */
export type PacerFor = (command: string) => CallPacer;

/** Brackets a lanes invocation: a worker's floor is open only for the lanes one holds. */
export interface LanesInvocation {
  /** The invocation holding these lanes begins; the returned function ends it. */
  begin(lanes: readonly number[]): () => void;
}

const ALWAYS_OPEN: LanesInvocation = { begin: () => () => undefined };

/** One pacer per command from `make`, made on first ask and kept. */
export function memoPacers(make: (command: string) => CallPacer): PacerFor {
  const pacers = new Map<string, CallPacer>();
  return (command) => {
    let pacer = pacers.get(command);
    if (pacer === undefined) pacers.set(command, (pacer = make(command)));
    return pacer;
  };
}

/**
 * Every command paced on its own at `ratePerSecond` (a single process: the CLI, a test).
 * @default ratePerSecond 100, IM's limit per command
 */
export function ownPacers(ratePerSecond = 100, safetyMarginMs?: number): PacerFor {
  return memoPacers(
    () => new RateLimiter({ ratePerSecond, ...(safetyMarginMs === undefined ? {} : { safetyMarginMs }) }),
  );
}

let processPacers: PacerFor | undefined;

/** The process-wide pacers at IM's own rate: every client of a process without pacing of its own shares them. */
export function processPacerFor(): PacerFor {
  processPacers ??= ownPacers();
  return processPacers;
}

/** The deployed pacing of one copy. */
export interface FleetPacingOptions {
  /** The shared grid and its rate; undefined: every command paces to `callsPerSecond` alone. */
  readonly grid:
    { readonly ledger: SlotLedger; readonly gridRate: number; readonly workerFloorRate: number } | undefined;
  /** This copy's static share of IM's limit, calls/s, for every command without a grid. */
  readonly callsPerSecond: number;
  readonly safetyMarginMs: number;
  /** The commands that share the fleet's grid (the attribute writes); the rare others pace on their own. */
  readonly sharedCommands: readonly string[];
  /** A worker copy gets a floor per shared command, handed round the lanes by the clock; the API spills instead. */
  readonly workerFloor: { readonly laneCount: number } | undefined;
  readonly onLedgerError: (error: unknown) => void;
}

/**
 * Pacing per IM command. With a budget table, the shared commands each draw on the fleet's grid beside this copy's
 * floor; without one, every command paces to this copy's static share. Fractional rates are spaced evenly.
 */
export function fleetPacing(options: FleetPacingOptions): { pacerFor: PacerFor; lanesInvocation: LanesInvocation } {
  const { grid } = options;
  const own = (rate: number) => () => new RateLimiter({ ratePerSecond: rate, safetyMarginMs: options.safetyMarginMs });
  if (grid === undefined) return { pacerFor: memoPacers(own(options.callsPerSecond)), lanesInvocation: ALWAYS_OPEN };
  const shared = new Set(options.sharedCommands);
  const floors = new Map<string, LaneSlotFloor>(
    options.workerFloor === undefined
      ? []
      : options.sharedCommands.map((command) => [
          command,
          new LaneSlotFloor({ floorRate: grid.workerFloorRate, laneCount: options.workerFloor?.laneCount ?? 1 }),
        ]),
  );
  const pacerFor = memoPacers((command) =>
    shared.has(command)
      ? new FleetPacer({
          command,
          ledger: grid.ledger,
          gridRate: grid.gridRate,
          floor: floors.get(command),
          onLedgerError: options.onLedgerError,
        })
      : own(Math.max(1, options.callsPerSecond))(),
  );
  const lanesInvocation: LanesInvocation = {
    begin: (lanes) => {
      const ends = [...floors.values()].map((floor) => floor.begin(lanes));
      return () => ends.forEach((end) => end());
    },
  };
  return { pacerFor, lanesInvocation };
}
