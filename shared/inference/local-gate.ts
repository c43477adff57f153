import { SlotGate } from './slot-gate';

/**
 * SlotGate for callers inside one process (CLI, benchmarks, tests): `run` waits for a slot in
 * arrival order, runs the work and always gives the slot back. Leases never expire here because
 * the holder cannot die without the gate.
 */
export interface LocalGate {
  run<T>(work: () => Promise<T>, holderId?: string): Promise<T>;
  readonly inUse: number;
  readonly queued: number;
}

const NEVER_MS = 2 ** 40;

export function createLocalGate(capacity: number): LocalGate {
  const gate = SlotGate.create({ capacity, leaseTtlMs: NEVER_MS });
  const wakeUps = new Map<string, () => void>();

  function releaseSlot(leaseId: string): void {
    for (const lease of gate.release(leaseId, 0)) {
      wakeUps.get(lease.leaseId)?.();
      wakeUps.delete(lease.leaseId);
    }
  }

  return {
    async run(work, holderId = 'local') {
      const ticket = gate.acquire(holderId, 0);
      const leaseId = ticket.status === 'granted' ? ticket.lease.leaseId : ticket.leaseId;
      if (ticket.status === 'queued') await new Promise<void>((resolve) => wakeUps.set(leaseId, resolve));
      try {
        return await work();
      } finally {
        releaseSlot(leaseId);
      }
    },
    get inUse() {
      return gate.inUse;
    },
    get queued() {
      return gate.queued;
    },
  };
}
