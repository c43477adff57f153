import { readdirSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../cli/stack';

// Every local queue is a Durable Object of miniflare's (QueueBrokerObject). After each batch its
// #flush awaits a log request to miniflare's loopback server (an http server in wrangler's Node
// process) and only then marks the batch finished and schedules the next one; a failed request
// ("Network connection lost.") left the batch marked in flight and the queue never delivered
// again, which stalled the 1,000-task build. The failures were the keep-alive race: Node closed a
// connection idle for 5 s (its default keepAliveTimeout) that workerd still pooled. This checks,
// on a real `wrangler dev` started by the local stack, that the loopback servers keep an idle
// connection open past those 5 s and answer on it (cli/loopback-keepalive.cjs).

/** The loopback ports of the stack's workerd processes (wrangler's process group). */
function loopbackPorts(group: number): number[] {
  const ports: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Field 5 (after the command in parentheses) is the process group id.
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (pgrp !== group) continue;
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      for (const arg of args) {
        const match = /^--external-addr=loopback=127\.0\.0\.1:(\d+)$/.exec(arg);
        if (match) ports.push(Number(match[1]));
      }
    } catch {
      // gone meanwhile
    }
  }
  return ports;
}

/** One log request (level 4, debug: not printed at the stack's warn level) on an open socket. */
function logRequest(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    const body = 'agent-r e2e: loopback keep-alive check';
    let answer = '';
    const onData = (chunk: Buffer) => {
      answer += chunk.toString();
      if (answer.includes('\r\n\r\n')) {
        socket.off('data', onData);
        resolve(answer.split('\r\n')[0]!);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(
      `POST /core/log HTTP/1.1\r\nHost: localhost\r\nMF-Log-Level: 4\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
  });
}

describe('the local stack keeps its queues delivering', () => {
  const home = mkdtempSync(join(tmpdir(), 'agent-r-loopback-'));
  let stack: LocalStack | null = null;
  afterAll(async () => {
    await stack?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it("wrangler's loopback servers keep an idle keep-alive connection open past Node's 5 s and answer on it", async () => {
    stack = await startLocalStack({ stateDir: join(home, 'state'), sim: false });
    const ports = loopbackPorts(stack.wranglerPid);
    expect(ports.length).toBeGreaterThan(0);
    for (const port of ports) {
      const socket = connect(port, '127.0.0.1');
      await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      let closedAt: number | null = null;
      socket.once('close', () => {
        closedAt = Date.now();
      });
      expect(await logRequest(socket)).toMatch(/^HTTP\/1\.1 204/);
      const idleFrom = Date.now();
      await new Promise((r) => setTimeout(r, 6500));
      // Without the preload the server closed the socket after 5 s of idleness.
      expect(closedAt === null ? null : closedAt - idleFrom).toBeNull();
      expect(await logRequest(socket)).toMatch(/^HTTP\/1\.1 204/);
      socket.destroy();
    }
  });
});
