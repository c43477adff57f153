import type { JudgeJob } from '../../../shared/contracts/jobs';
import { consumeJobs } from '../../common/consume';
import type { CoreBindings } from '../../common/env';
import { judgeStep } from './judge-step';

export default {
  async queue(batch, env) {
    await consumeJobs<JudgeJob>(batch, env, ['judge'], (job, context) => judgeStep(env, job, context));
  },
} satisfies ExportedHandler<CoreBindings>;
