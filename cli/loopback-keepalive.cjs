// Preloaded into `wrangler dev` by the local stack (NODE_OPTIONS=--require), always.
//
// Every local queue is a Durable Object of miniflare's (its QueueBrokerObject). After each batch
// it logs the outcome by a fetch to miniflare's loopback server, an http server in wrangler's Node
// process, and only then marks the batch finished and schedules the next one. When that fetch
// fails, the exception leaves the flush with the batch still marked in flight, and the queue
// never delivers again: measured on a loaded 300-task build, "#flush threw ... Network connection
// lost" froze 2 of the 4 expand shards within 4 minutes (the 1,000-task build froze both splice
// shards). The failing fetches are the keep-alive race: Node's http server closes a connection
// that sat idle for its keepAliveTimeout (5 s by default) while workerd, which pools connections
// to the loopback, sends the next request on it. A server that never closes an idle connection
// (keepAliveTimeout 0: "disables the keep-alive timeout behavior on incoming connections",
// https://nodejs.org/api/http.html#serverkeepalivetimeout) leaves the closing to the client, and
// the race is gone. Newer miniflare (5.x, the one vitest-pool-workers runs) sets keepAliveTimeout
// 0 on its loopback server itself; the miniflare bundled with our wrangler (4.20260426) does not.
// The servers are wrangler's own, on 127.0.0.1, for one developer's stack.
// test/e2e/queue-loopback.test.ts: an idle connection survives past 5 s and is answered.
'use strict';
const http = require('node:http');

const createServer = http.createServer;
http.createServer = function createServerKeepingIdleConnections(...args) {
  const server = createServer.apply(this, args);
  server.keepAliveTimeout = 0;
  return server;
};
