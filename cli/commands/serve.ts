import { parseArgs } from 'node:util';
import { type CliCommand, UsageError } from '../command';
import { startLocalStack } from '../stack';

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'start the whole local stack (all workers under wrangler dev + sim-policy)',
  help: `Usage: agent-r serve [--port P] [--no-sim] [--state DIR]

Starts every worker (gateway, coordinator, expander, critic, splicer) under one
\`wrangler dev\`, fully offline, with local D1, R2, Queues and Durable Objects, and the
simulated policy endpoint (cli/sim-policy, registered as endpoint "sim").
Once the API answers it prints:
  API_URL=<url>
  API_TOKEN=<token>
Ctrl-C or SIGTERM stops everything it started. State persists in .agent-r/state
(or AGENT_R_HOME), so a stopped stack resumes its runs when started again.
The gateway's reconciler (its cron trigger, which wrangler dev never fires) runs
every minute: stuck webhook deliveries and datasets are repaired as when deployed.
wrangler's DevTools inspector is off (it logs every fetch of the workers);
set AGENT_R_INSPECT=1 to keep it for debugging. The workers are bundled once at the start
(no rebuild on a source change, whose file watching costs CPU all the time); set
AGENT_R_WATCH=1 to rebuild them while you edit.

Options:
  --port P      port of the HTTP API (default: a free port)
  --no-sim      do not start sim-policy
  --state DIR   persistence directory (default .agent-r/state)
  -h, --help    this text`,
  async run(args, io) {
    const { values } = parseArgs({
      args,
      options: { port: { type: 'string' }, 'no-sim': { type: 'boolean' }, state: { type: 'string' } },
      strict: true,
    });
    const port = values.port === undefined ? 0 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`--port must be a port number, got "${values.port}"`);
    // Ctrl-C during the start stops what was started (wrangler runs in its own process group).
    const aborter = new AbortController();
    let stopped: (() => void) | null = null;
    const onSignal = () => {
      if (aborter.signal.aborted) return;
      aborter.abort(new Error('interrupted'));
      stopped?.();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const stack = await startLocalStack({
        port,
        sim: !values['no-sim'],
        stateDir: values.state,
        log: (line) => io.stderr.write(`${line}\n`),
        signal: aborter.signal,
      });
      io.stdout.write(`API_URL=${stack.apiUrl}\nAPI_TOKEN=${stack.token}\n`);
      if (stack.simUrl) io.stderr.write(`sim-policy: ${stack.simUrl} (a simulator, not a language model)\n`);
      io.stderr.write(`dashboard: ${stack.apiUrl}/  (log in with the token)\nCtrl-C to stop\n`);
      await new Promise<void>((resolveStop) => {
        stopped = resolveStop;
        if (aborter.signal.aborted) resolveStop();
      });
      io.stderr.write('stopping...\n');
      await stack.stop();
    } catch (error) {
      if (!aborter.signal.aborted) throw error;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    return 0;
  },
};
