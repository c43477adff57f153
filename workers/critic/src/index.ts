import type { JudgeJob } from '../../../shared/contracts/jobs';
import { consumeJobs } from '../../common/consume';
import type { CoreBindings } from '../../common/env';
import { withOps } from '../../common/ops-meter';
import { judgeStep } from './judge-step';

export default {
  async queue(batch, rawEnv) {
    await withOps(rawEnv, 'critic', 'queue', (env) =>
      consumeJobs<JudgeJob>(batch, env, ['judge'], (job, context) => judgeStep(env, job, context)),
    );
  },
} satisfies ExportedHandler<CoreBindings>;
