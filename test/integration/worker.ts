import coordinator from '../../workers/coordinator/src/index';
import critic from '../../workers/critic/src/index';
import splicer from '../../workers/splicer/src/index';
import expander from '../../workers/expander/src/index';
import gateway from '../../workers/gateway/src/index';
import { expandWithHangs, hangs } from './hang-hooks';
import { splicerEnv } from './splice-hold';

export { EndpointGate, EnvPool, RunLedger, TaskTree } from '../../workers/coordinator/src/index';

type AnyEnv = Parameters<typeof gateway.fetch>[1];

/** Every worker's handlers behind one entry: fetch goes to the gateway, queues by name. */
export default {
  fetch: (request, env, ctx) => gateway.fetch(request, env, ctx),
  scheduled: (controller, env) => gateway.scheduled(controller, env),
  async queue(batch, env) {
    const name = batch.queue;
    if (name === 'agent-r-expand')
      return hangs.length
        ? expandWithHangs(batch, env as never)
        : expander.queue(batch as never, env as never);
    if (name === 'agent-r-critique') return critic.queue(batch as never, env as never);
    if (name === 'agent-r-splice') {
      const runIds = batch.messages.map((m) => (m.body as { runId?: string }).runId ?? '');
      return splicer.queue(batch as never, (await splicerEnv(env as never, runIds)) as never);
    }
    if (name === 'agent-r-events') return gateway.queue(batch as never, env as never);
    if (name.endsWith('-dlq')) return coordinator.queue(batch as never, env as never);
    throw new Error(`no consumer for queue ${name} in the integration worker`);
  },
} satisfies ExportedHandler<AnyEnv>;
