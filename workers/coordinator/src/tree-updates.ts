import type { SearchNode, SearchState } from '../../../shared/mcts';
import { LIVE_HOLDER_HEADER } from '../../common/durable-objects';
import {
  LIVE_PING,
  LIVE_PONG,
  LIVE_TAG,
  type LiveMessage,
  type LiveNode,
} from '../../../shared/contracts/live-tree';

/** Beyond this many watchers a task refuses new sockets (each one costs a send per change). */
export const MAX_LIVE_SOCKETS = 64;
/** Node batches are split so no message comes near the 1 MiB WebSocket message limit. */
const MAX_MESSAGE_CHARS = 256 * 1024;

export function liveNode(node: SearchNode): LiveNode {
  const out: LiveNode = {
    id: node.id,
    parentId: node.parentId,
    depth: node.depth,
    response: node.response,
    action: node.action,
    observation: node.observation,
    reward: node.reward,
    done: node.done,
    terminal: node.terminal,
    visits: node.visits,
    value: node.value,
    judgement: node.judgement,
  };
  if (node.failed) out.failed = true;
  if (node.error !== null) out.error = node.error;
  return out;
}

/**
 * Live updates of one TaskTree for the dashboard, over the WebSocket Hibernation API: sockets
 * survive the object being evicted between results, pings are answered without waking it, and
 * after every applied result the changed nodes go to every socket. The gateway checks the
 * caller (a short-lived ticket) before it forwards the upgrade here.
 */
const holderTag = (holder: string) => `holder:${holder}`.slice(0, 200);

export class TreeUpdates {
  private lastStatus: string | null = null;

  constructor(private readonly ctx: DurableObjectState) {}

  /** Accepts a forwarded WebSocket upgrade; `hello` describes the tree at this moment. */
  accept(request: Request, hello: { status: string | null; nodes: number }): Response {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket')
      return new Response('expected a WebSocket upgrade', { status: 426 });
    if (this.ctx.getWebSockets(LIVE_TAG).length >= MAX_LIVE_SOCKETS)
      return new Response('too many live watchers of this task', { status: 429 });
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    // The API token that opened it (set by the gateway), so revoking the token can close it.
    const holder = request.headers.get(LIVE_HOLDER_HEADER);
    this.ctx.acceptWebSocket(server, holder ? [LIVE_TAG, holderTag(holder)] : [LIVE_TAG]);
    this.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(LIVE_PING, LIVE_PONG));
    send(server, { type: 'hello', ...hello });
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Sends the nodes with these ids (call before the store clears the dirty list). */
  nodes(search: SearchState, ids: readonly string[], status: string): void {
    if (ids.length === 0) return;
    const sockets = this.ctx.getWebSockets(LIVE_TAG);
    if (sockets.length === 0) return;
    const sorted = [...ids].sort((a, b) => Number(a) - Number(b));
    let batch: LiveNode[] = [];
    let size = 0;
    const flush = () => {
      if (batch.length) broadcast(sockets, { type: 'nodes', status, nodes: batch });
      batch = [];
      size = 0;
    };
    for (const id of sorted) {
      const node = search.nodes[Number(id)];
      if (!node) continue;
      const live = liveNode(node);
      const chars = live.response.length + live.observation.length + live.action.length + 300;
      if (size + chars > MAX_MESSAGE_CHARS) flush();
      batch.push(live);
      size += chars;
    }
    flush();
  }

  /** Tells the sockets when the task's status changes (repeats are dropped). */
  status(status: string): void {
    if (status === this.lastStatus) return;
    this.lastStatus = status;
    const sockets = this.ctx.getWebSockets(LIVE_TAG);
    if (sockets.length) broadcast(sockets, { type: 'status', status });
  }

  /** Closes the sockets opened with this API token (it was revoked); returns how many. */
  closeHolder(holder: string): number {
    const sockets = this.ctx.getWebSockets(holderTag(holder));
    for (const ws of sockets) {
      try {
        ws.close(4001, 'token revoked');
      } catch {
        // already closing
      }
    }
    return sockets.length;
  }

  /** The hibernation API wants the close handshake answered on every compatibility date. */
  static closed(ws: WebSocket, code: number, reason: string): void {
    // 1005/1006/1015 are reserved: they may be received but never sent.
    const reply = code === 1005 || code === 1006 || code === 1015 ? 1000 : code;
    try {
      ws.close(reply, reason);
    } catch {
      // already closed
    }
  }
}

function send(ws: WebSocket, message: LiveMessage): void {
  try {
    ws.send(JSON.stringify(message));
  } catch {
    // the socket is closing; its close handler cleans up
  }
}

function broadcast(sockets: WebSocket[], message: LiveMessage): void {
  const text = JSON.stringify(message);
  for (const ws of sockets) {
    try {
      ws.send(text);
    } catch {
      // the socket is closing; its close handler cleans up
    }
  }
}
