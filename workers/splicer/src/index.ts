import type { SpliceJob } from '../../../shared/contracts/jobs';
import { consumeJobs } from '../../common/consume';
import type { CoreBindings } from '../../common/env';
import { withOps } from '../../common/ops-meter';
import { removeTaskRecords, spliceTree } from './splice-tree';

export default {
  async queue(batch, rawEnv) {
    await withOps(rawEnv, 'splicer', 'queue', (env) =>
      consumeJobs<SpliceJob>(
        batch,
        env,
        ['splice'],
        (job, context) => spliceTree(env, job, context),
        // Cancel is final: a splice that finished after its task was cancelled takes its records back.
        async (job, status) => {
          if (status === 'cancelled') await removeTaskRecords(env, job.runId, job.task);
        },
      ),
    );
  },
} satisfies ExportedHandler<CoreBindings>;
