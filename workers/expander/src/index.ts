import type { ExpandJob } from '../../../shared/contracts/jobs';
import { consumeJobs } from '../../common/consume';
import type { CoreBindings } from '../../common/env';
import { withOps } from '../../common/ops-meter';
import { expandNode, expandRoot } from './expand-node';

export default {
  async queue(batch, rawEnv) {
    await withOps(rawEnv, 'expander', 'queue', (env) =>
      consumeJobs<ExpandJob>(batch, env, ['root', 'expand'], (job, context) =>
        job.kind === 'root' ? expandRoot(env, job, context) : expandNode(env, job, context),
      ),
    );
  },
} satisfies ExportedHandler<CoreBindings>;
