import type { SpliceJob } from '../../../shared/contracts/jobs';
import { consumeJobs } from '../../common/consume';
import type { CoreBindings } from '../../common/env';
import { spliceTree } from './splice-tree';

export default {
  async queue(batch, env) {
    await consumeJobs<SpliceJob>(batch, env, ['splice'], (job) => spliceTree(env, job));
  },
} satisfies ExportedHandler<CoreBindings>;
