import { constants } from 'node:os';

// Ctrl-C (SIGINT) or SIGTERM while a command runs a local stack: the command stops its stack and
// ends with the shell's convention for a signal, 128 + its number (130 for SIGINT), whatever the
// interrupted work then reports (a poll that found the stack gone is not the command's failure).

let received: NodeJS.Signals | null = null;

export function noteInterrupt(signal: NodeJS.Signals): void {
  received ??= signal;
}

/** 128 + the signal's number once a command was interrupted, else null. */
export function interruptExitCode(): number | null {
  return received === null ? null : 128 + (constants.signals[received] ?? 2);
}
