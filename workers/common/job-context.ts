/**
 * What a job consumer's work can ask while it runs: whether its attempt is still the job's
 * current one (not re-sent under it, not finished by another attempt, its run not cancelled).
 * Work checks before every step with an outside effect it must not duplicate (an inference call,
 * touching an environment, writing records) and stops with `JobSuperseded` when it is not.
 */
export interface JobContext {
  stillCurrent(): Promise<boolean>;
  /**
   * Before this time (epoch ms) the attempt cannot have been re-sent: the TaskTree moved its
   * deadline at least half a job timeout past the consumer's pickup and each heartbeat. Only a
   * cancel of its run ends it sooner, and that cancel revokes its waits at the endpoint gates.
   */
  currentUntil?: number;
}

/**
 * Whether a wait that just ended can have outdated the attempt (so `stillCurrent` must be asked
 * before an outside effect): false while the attempt is known to be current (`currentUntil`).
 */
export function mayBeOutdated(context: JobContext | undefined): boolean {
  return context !== undefined && !(context.currentUntil !== undefined && Date.now() < context.currentUntil);
}

/** The attempt was superseded or its run cancelled: the consumer drops it without a report. */
export class JobSuperseded extends Error {
  constructor(what: string) {
    super(`${what}: attempt superseded or run cancelled`);
    this.name = 'JobSuperseded';
  }
}

/** Throws `JobSuperseded` unless the attempt is still current. */
export async function ensureCurrent(context: JobContext | undefined, what: string): Promise<void> {
  if (context && !(await context.stillCurrent())) throw new JobSuperseded(what);
}

/** A context for work done outside a queue consumer (always current). */
export const alwaysCurrent: JobContext = { stillCurrent: async () => true };
