import type { SpliceJob } from '../../../shared/contracts/jobs';
import { consumeJobs } from '../../common/consume';
import type { CoreBindings } from '../../common/env';
import { withOps } from '../../common/ops-meter';
import { removeTaskRecords } from '../../common/task-records';
import { spliceTree } from './splice-tree';

export default {
  async queue(batch, rawEnv) {
    await withOps(rawEnv, 'splicer', 'queue', (env) =>
      consumeJobs<SpliceJob>(
        batch,
        env,
        ['splice'],
        (job, context) => spliceTree(env, job, context),
        // A splice whose result was refused (its task cancelled) takes its records back; the
        // TaskTree's cancel does the same before it answers (tree-writes.ts), so this is a second sweep.
        async (job, status) => {
          if (status === 'cancelled') await removeTaskRecords(env, job.runId, job.task);
        },
      ),
    );
  },
} satisfies ExportedHandler<CoreBindings>;
