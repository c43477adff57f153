// The dashboard's live tree protocol: JSON text messages a TaskTree sends to the sockets the
// gateway forwards to it. Types only (plus two constants), so the browser bundle, the gateway
// and the coordinator share one definition.
import type { TreeNodeExtras, TreeNodeFields } from './tree-file';

/** A tree node as it changed: the tree file's node, flat (parent by id, no children). */
export interface LiveNode extends TreeNodeFields, Omit<TreeNodeExtras, 'rawAction'> {
  parentId: string | null;
}

export type LiveMessage =
  /** Sent once when the socket opens: the task's status (null before it started) and node count. */
  | { type: 'hello'; status: string | null; nodes: number }
  /** Nodes created or changed by one applied result (ascending ids; parents before children). */
  | { type: 'nodes'; status: string; nodes: LiveNode[] }
  /** The task moved on (searching -> critiquing -> splicing -> done | failed | cancelled). */
  | { type: 'status'; status: string };

/** Keep-alive: the object answers without waking from hibernation. */
export const LIVE_PING = 'ping';
export const LIVE_PONG = 'pong';

/** The tag the TaskTree gives the sockets it accepts for live updates. */
export const LIVE_TAG = 'live';
