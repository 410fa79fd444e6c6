import type { DeadLetter, DeadLetters } from '../ports.ts';

/** Writes dead letters; false when they could not be written (their records then stay for a retry). */
export async function sendLetters(deadLetters: DeadLetters, letters: readonly DeadLetter[]): Promise<boolean> {
  if (letters.length === 0) return true;
  try {
    await deadLetters.send(letters);
    return true;
  } catch {
    return false;
  }
}
