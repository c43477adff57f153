import type { AgentGymFlavor, EnvSession, StepResult } from '../types';
import { EnvError } from './errors';
import type { FlavorProtocol } from './flavor-protocol';
import {
  DEFAULT_RETRY_POLICY,
  DEFAULT_TIMEOUT_MS,
  type JsonTransport,
  type RetryPolicy,
  createJsonTransport,
} from './http-transport';
import { sciWorldProtocol } from './sciworld-protocol';
import type { TextCraftClientVersion } from './textcraft-action';
import { textCraftProtocol } from './textcraft-protocol';
import { webShopProtocol } from './webshop-protocol';

export interface AgentGymSessionOptions {
  /** e.g. `http://127.0.0.1:36001` (a trailing slash is fine). */
  baseUrl: string;
  flavor: AgentGymFlavor;
  /** Adopt an existing server-side env (e.g. leased from the pool) instead of creating one. */
  envId?: number;
  /**
   * The adopted env was reset to this task by its last holder and is mid-episode (its position
   * came with the lease): it may be stepped without a reset.
   */
  positionedAt?: number;
  /** Per attempt. Default 60 s (SciWorld's /create starts a JVM). */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  fetch?: typeof fetch;
  /** Which AgentGym TextCraft client's action cleaning to follow (default v2025). */
  textcraftClientVersion?: TextCraftClientVersion;
  /** SciWorld: map each action to the closest valid one before stepping (sciworld-actions.ts). */
  mapActions?: boolean;
}

/** An `EnvSession` backed by one env id on an AgentGym environment server. */
export interface AgentGymSession extends EnvSession {
  readonly flavor: AgentGymFlavor;
  readonly baseUrl: string;
  /** The server-side env id once created or adopted. */
  readonly envId: number | undefined;
  /** The task of the last successful reset. */
  readonly task: number | undefined;
  /** Steps since the last reset (client-side refusals included). */
  readonly stepCount: number;
  /** The latest reset or step result. */
  readonly lastResult: StepResult | undefined;
  /** Creates the server-side env unless one exists already; returns its id. */
  ensureCreated(): Promise<number>;
}

/**
 * - `fresh`: env exists (or will be created) but has not been reset by us: stepping is refused.
 * - `ready` / `done`: after a reset; at `done` steps return the final result without a call.
 * - `state-lost`: a call failed and the env's state is unknown: only reset or close are allowed.
 */
type Phase = 'fresh' | 'ready' | 'done' | 'state-lost' | 'closed';

export function createAgentGymSession(options: AgentGymSessionOptions): AgentGymSession {
  return new HttpAgentGymSession(options);
}

export function protocolFor(
  flavor: AgentGymFlavor,
  textcraftVersion?: TextCraftClientVersion,
  mapActions?: boolean,
): FlavorProtocol {
  switch (flavor) {
    case 'textcraft':
      return textCraftProtocol(textcraftVersion);
    case 'sciworld':
      return sciWorldProtocol({ mapActions: mapActions === true });
    case 'webshop':
      return webShopProtocol();
  }
}

class HttpAgentGymSession implements AgentGymSession {
  readonly flavor: AgentGymFlavor;
  readonly baseUrl: string;
  private readonly transport: JsonTransport;
  private readonly protocol: FlavorProtocol;
  private id: number | undefined;
  private phase: Phase = 'fresh';
  private currentTask: number | undefined;
  private steps = 0;
  private last: StepResult | undefined;
  /** Serialises calls: the servers have no per-env lock, so one call per env at a time. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(options: AgentGymSessionOptions) {
    this.flavor = options.flavor;
    this.transport = createJsonTransport({
      baseUrl: options.baseUrl,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
      fetch: options.fetch,
    });
    this.baseUrl = this.transport.baseUrl;
    this.protocol = protocolFor(options.flavor, options.textcraftClientVersion, options.mapActions);
    this.id = options.envId;
    if (options.envId !== undefined && options.positionedAt !== undefined) {
      this.phase = 'ready';
      this.currentTask = options.positionedAt;
    }
  }

  get envId(): number | undefined {
    return this.id;
  }
  get task(): number | undefined {
    return this.currentTask;
  }
  get stepCount(): number {
    return this.steps;
  }
  get lastResult(): StepResult | undefined {
    return this.last && { ...this.last };
  }

  ensureCreated(): Promise<number> {
    return this.exclusive(() => this.createIfNeeded());
  }

  reset(task: number): Promise<StepResult> {
    return this.exclusive(async () => {
      const envId = await this.createIfNeeded();
      try {
        const result = await this.protocol.reset(this.transport, envId, task);
        this.phase = 'ready';
        this.currentTask = task;
        this.steps = 0;
        this.last = result;
        return { ...result };
      } catch (error) {
        this.phase = 'state-lost';
        throw error;
      }
    });
  }

  step(action: string): Promise<StepResult> {
    return this.exclusive(async () => {
      this.assertSteppable('POST /step');
      if (this.phase === 'done') return { ...this.last! };
      const prepared = this.protocol.prepareAction(action);
      let result: StepResult;
      if (prepared.kind === 'refused') {
        result = prepared.result;
      } else {
        try {
          result = await this.protocol.step(this.transport, this.id!, prepared.action);
        } catch (error) {
          // Whatever went wrong, we no longer know the env's state: force a reset first.
          this.phase = 'state-lost';
          throw error;
        }
      }
      this.steps++;
      this.last = result;
      if (result.done) this.phase = 'done';
      return { ...result };
    });
  }

  async snapshot(): Promise<string | null> {
    return null; // HTTP envs cannot be cloned: restore by reset + replay (shared/env/replay.ts).
  }

  async restore(_snapshot: string): Promise<void> {
    throw this.misuse('restore', 'AgentGym envs have no snapshots; restore by reset + replaying the actions');
  }

  close(): Promise<void> {
    return this.exclusive(async () => {
      if (this.phase === 'closed') return;
      const envId = this.id;
      this.phase = 'closed';
      if (envId === undefined) return;
      try {
        await this.protocol.close(this.transport, envId);
      } catch (error) {
        // An id the server no longer knows is as closed as it gets.
        if (!(error instanceof EnvError && error.kind === 'invalid-id')) throw error;
      }
    });
  }

  private async createIfNeeded(): Promise<number> {
    if (this.phase === 'closed') throw this.misuse('POST /create', 'the session is closed');
    if (this.id === undefined) this.id = await this.protocol.create(this.transport);
    return this.id;
  }

  private assertSteppable(endpoint: string): void {
    switch (this.phase) {
      case 'closed':
        throw this.misuse(endpoint, 'the session is closed');
      case 'fresh':
        throw this.misuse(endpoint, 'step before reset: call reset(task) first');
      case 'state-lost':
        throw new EnvError(`env ${this.id}'s state is unknown after a failed call; reset before stepping`, {
          kind: 'state-lost',
          server: this.baseUrl,
          endpoint,
        });
      default:
    }
  }

  private misuse(endpoint: string, message: string): EnvError {
    return new EnvError(message, { kind: 'misuse', server: this.baseUrl, endpoint });
  }

  private exclusive<T>(run: () => Promise<T>): Promise<T> {
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
