/**
 * The one interface every environment implements, so search code never knows which it drives.
 * Rewards are normalised to [0, 1]; a negative raw reward is reported as `failed: true`
 * (a "disaster": terminal, scored 0) so MCTS can treat it as terminal.
 */
export interface StepResult {
  observation: string;
  /** The action the env received when the client changed the one it was given (SciWorld mapping). */
  sentAction?: string;
  /** Normalised reward in [0, 1]. */
  reward: number;
  done: boolean;
  /** True when the raw reward was negative (e.g. SciWorld -100): terminal, reward 0. */
  failed?: boolean;
}

export interface EnvSession {
  /** Reset to task `task` (a world's goal index, or an AgentGym data index). */
  reset(task: number): Promise<StepResult>;
  step(action: string): Promise<StepResult>;
  /**
   * An exact, serialisable copy of the state, or null when the environment cannot be
   * cloned (HTTP servers): then callers restore by reset + replaying the actions.
   */
  snapshot(): Promise<string | null>;
  restore(snapshot: string): Promise<void>;
  close(): Promise<void>;
}

export type EnvKind = 'crafting' | 'agentgym';
export type AgentGymFlavor = 'textcraft' | 'webshop' | 'sciworld';
