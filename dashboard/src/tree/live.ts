// The live stream of one task's tree: a ticket (bearer-authenticated POST) buys a WebSocket to the
// task's TaskTree; reconnects with backoff, and gives up to polling after repeated failures.
import { LIVE_PING, LIVE_PONG, type LiveMessage } from '../../../shared/contracts/live-tree';
import { api } from '../api';

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'polling' | 'stopped';

export interface LiveHandlers {
  message(message: LiveMessage): void;
  state(state: LiveState): void;
}

const MAX_FAILURES = 4;

export function connectLive(runId: string, task: number, handlers: LiveHandlers): { stop(): void } {
  let socket: WebSocket | null = null;
  let stopped = false;
  let failures = 0;
  let ping = 0;
  let retry = 0;

  const open = async () => {
    if (stopped) return;
    handlers.state(failures ? 'reconnecting' : 'connecting');
    let url: string;
    try {
      const ticket = await api<{ url: string }>(
        `/v1/runs/${encodeURIComponent(runId)}/tasks/${task}/live-ticket`,
        { method: 'POST' },
      );
      url = ticket.url;
    } catch {
      return failed();
    }
    if (stopped) return;
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${url}`);
    socket = ws;
    let opened = false;
    ws.addEventListener('open', () => {
      opened = true;
      failures = 0;
      handlers.state('live');
      ping = window.setInterval(() => ws.readyState === WebSocket.OPEN && ws.send(LIVE_PING), 20_000);
    });
    ws.addEventListener('message', (event) => {
      if (typeof event.data !== 'string' || event.data === LIVE_PONG) return;
      try {
        handlers.message(JSON.parse(event.data) as LiveMessage);
      } catch (error) {
        console.warn('bad live message', error);
      }
    });
    ws.addEventListener('close', () => {
      window.clearInterval(ping);
      if (socket === ws) socket = null;
      if (stopped) return;
      if (!opened) return failed();
      failures = 0;
      failed();
    });
  };

  const failed = () => {
    if (stopped) return;
    failures++;
    if (failures > MAX_FAILURES) {
      handlers.state('polling');
      return;
    }
    handlers.state('reconnecting');
    retry = window.setTimeout(() => void open(), Math.min(15_000, 500 * 2 ** failures));
  };

  void open();
  return {
    stop() {
      stopped = true;
      window.clearTimeout(retry);
      window.clearInterval(ping);
      socket?.close(1000, 'leaving');
      socket = null;
      handlers.state('stopped');
    },
  };
}
