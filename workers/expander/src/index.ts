import type { ExpandJob } from '../../../shared/contracts/jobs';
import { consumeJobs } from '../../common/consume';
import type { CoreBindings } from '../../common/env';
import { expandNode, expandRoot } from './expand-node';

export default {
  async queue(batch, env) {
    await consumeJobs<ExpandJob>(batch, env, ['root', 'expand'], (job, context) =>
      job.kind === 'root' ? expandRoot(env, job, context) : expandNode(env, job, context),
    );
  },
} satisfies ExportedHandler<CoreBindings>;
