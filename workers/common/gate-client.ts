import { SlotHandOff } from '../../shared/inference/slot-handoff';
import {
  type DurableObjectBindings,
  endpointGateStub,
  type GateGrant,
  type GateRefusal,
} from './durable-objects';

/** Per endpoint, this isolate's side of its gate (slot-handoff.ts). */
const handOffs = new Map<string, SlotHandOff>();

function handOffFor(endpoint: string): SlotHandOff {
  const known = handOffs.get(endpoint);
  if (known) return known;
  const local = new SlotHandOff();
  handOffs.set(endpoint, local);
  return local;
}

/**
 * `slots` slots of `endpoint` for one request. While the gate is busy, a caller may first wait
 * (briefly) for a slot a request of this isolate gives back and send that release with its ask:
 * one gate call per request instead of two. Such a grant counts as `queued` (time passed).
 */
export async function acquireSlots(
  env: DurableObjectBindings,
  endpoint: string,
  holderId: string,
  capacity: number,
  priority: number,
  slots: number,
): Promise<GateGrant | GateRefusal> {
  const gate = endpointGateStub(env, endpoint);
  const local = handOffFor(endpoint);
  const deferred = local.shouldDefer(capacity, priority);
  const handed = deferred ? await local.defer() : null;
  let answer: GateGrant | GateRefusal;
  if (handed === null) answer = await gate.acquire(holderId, capacity, priority, slots);
  else {
    try {
      answer = await gate.exchange(handed, holderId, capacity, priority, slots);
    } catch (error) {
      // The handed slots must not stay taken (a release of a lease already gone changes nothing).
      await gate.release(handed).catch(() => 0);
      throw error;
    }
  }
  if ('refused' in answer) return answer;
  local.granted(answer.slots ?? 1, answer);
  return deferred && !answer.queued ? { ...answer, queued: true } : answer;
}

/** The request is over: its slots go to a caller of this isolate waiting for them, or back to the gate. */
export async function releaseSlots(
  env: DurableObjectBindings,
  endpoint: string,
  lease: GateGrant,
): Promise<void> {
  const local = handOffFor(endpoint);
  if (local.handOver(lease.leaseId, lease.slots ?? 1)) return;
  local.seen(await endpointGateStub(env, endpoint).release(lease.leaseId));
}
