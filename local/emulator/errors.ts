/** Thrown by `startEmulator` and `setFaults` when an option is out of range. */
export class EmulatorOptionsError extends Error {
  /** The option at fault, e.g. `faults.pReset`. */
  readonly option: string;
  readonly value: unknown;

  constructor(option: string, value: unknown, message: string, options?: { cause?: unknown }) {
    super(`Invalid emulator option ${option}: ${message}`, options);
    this.name = 'EmulatorOptionsError';
    this.option = option;
    this.value = value;
  }
}
